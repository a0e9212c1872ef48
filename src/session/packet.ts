/**
 * Session datagrams: the cleartext header and the ChaCha20-Poly1305 sealing around an
 * encoded Envelope. Layout (docs/protocol.md):
 *
 *   0x11 | sender ID (32) | sender boot ID (8) | counter (8, BE uint64) | ciphertext | tag (16)
 *
 * nonce = 0x00000000 || counter (8, BE); aad = the 49 header bytes, so the header cannot be
 * altered without failing authentication.
 */
import { MccError, invalidArgument } from '../errors.js';
import type { CryptoSuite } from '../crypto/types.js';
import {
  AEAD_KEY_SIZE,
  AEAD_NONCE_SIZE,
  BOOT_ID_SIZE,
  MAX_DATAGRAM_SIZE,
  NODE_ID_SIZE,
  PACKET_SESSION,
  SESSION_BOOT_OFFSET,
  SESSION_COUNTER_OFFSET,
  SESSION_HEADER_SIZE,
  SESSION_OVERHEAD,
  SESSION_SENDER_OFFSET,
} from '../wire/constants.js';

/** Largest datagram counter (uint64). */
export const MAX_COUNTER = (1n << 64n) - 1n;

/** The cleartext part of a session datagram. The byte arrays are views into the datagram (no copy). */
export interface SessionHeader {
  /** Sender node ID (Ed25519 public key), 32 bytes. */
  senderId: Uint8Array;
  /** Sender boot ID, 8 bytes. */
  bootId: Uint8Array;
  /** Datagram counter, unique per (sender, boot, receiver). */
  counter: bigint;
}

/** Arguments of {@link sealSessionDatagram}. */
export interface SealSessionArgs {
  suite: CryptoSuite;
  /** This node's ID (32 bytes). */
  senderId: Uint8Array;
  /** This node's boot ID (8 bytes). */
  bootId: Uint8Array;
  /** Next counter for this (peer, boot); a non-negative safe integer or a bigint below 2^64. Never reuse one. */
  counter: number | bigint;
  /** The send key from {@link PeerKeyCache.sendKey}. */
  key: Uint8Array;
  /** The encoded Envelope. */
  envelopeBytes: Uint8Array;
}

// Scratch nonce: sealing and opening are synchronous, so one buffer per process suffices.
const nonceScratch = new Uint8Array(AEAD_NONCE_SIZE);
const nonceView = new DataView(nonceScratch.buffer);

function writeCounter(view: DataView, offset: number, counter: number | bigint): void {
  if (typeof counter === 'number') {
    if (!Number.isSafeInteger(counter) || counter < 0) throw invalidArgument('counter', 'expected a non-negative safe integer');
    view.setUint32(offset, Math.floor(counter / 2 ** 32));
    view.setUint32(offset + 4, counter >>> 0);
  } else {
    if (counter < 0n || counter > MAX_COUNTER) throw invalidArgument('counter', 'expected a bigint in [0, 2^64)');
    view.setBigUint64(offset, counter);
  }
}

/**
 * Builds a sealed session datagram in one output buffer.
 * @throws MccError `ERR_DATAGRAM_TOO_LARGE` when the datagram would exceed {@link MAX_DATAGRAM_SIZE};
 *   `ERR_INVALID_ARGUMENT` for wrong-sized IDs, keys or an out-of-range counter.
 */
export function sealSessionDatagram(args: SealSessionArgs): Uint8Array {
  const { suite, senderId, bootId, counter, key, envelopeBytes } = args;
  if (senderId.length !== NODE_ID_SIZE) throw invalidArgument('senderId', `expected ${NODE_ID_SIZE} bytes`);
  if (bootId.length !== BOOT_ID_SIZE) throw invalidArgument('bootId', `expected ${BOOT_ID_SIZE} bytes`);
  if (key.length !== AEAD_KEY_SIZE) throw invalidArgument('key', `expected ${AEAD_KEY_SIZE} bytes`);
  const size = SESSION_OVERHEAD + envelopeBytes.length;
  if (size > MAX_DATAGRAM_SIZE) {
    throw new MccError('ERR_DATAGRAM_TOO_LARGE', `session datagram would be ${size} bytes, limit ${MAX_DATAGRAM_SIZE}`, {
      details: { size, limit: MAX_DATAGRAM_SIZE },
    });
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = PACKET_SESSION;
  out.set(senderId, SESSION_SENDER_OFFSET);
  out.set(bootId, SESSION_BOOT_OFFSET);
  writeCounter(view, SESSION_COUNTER_OFFSET, counter);
  nonceView.setUint32(0, 0);
  nonceScratch.set(out.subarray(SESSION_COUNTER_OFFSET, SESSION_HEADER_SIZE), 4);
  // The suite returns ciphertext||tag in its own buffer (the CryptoSuite seam has no in-place
  // variant); one copy of <= 1151 bytes is cheap next to the cipher itself.
  out.set(suite.seal(key, nonceScratch, envelopeBytes, out.subarray(0, SESSION_HEADER_SIZE)), SESSION_HEADER_SIZE);
  return out;
}

/**
 * Reads the cleartext header. Returns null (never throws) for anything that is not a
 * well-formed session datagram: wrong kind/version byte, or too short to hold header and tag.
 * Nothing in the result is authenticated until {@link openSessionDatagram} succeeds.
 */
export function parseSessionHeader(bytes: Uint8Array): SessionHeader | null {
  if (!(bytes instanceof Uint8Array) || bytes.length < SESSION_OVERHEAD || bytes[0] !== PACKET_SESSION) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    senderId: bytes.subarray(SESSION_SENDER_OFFSET, SESSION_BOOT_OFFSET),
    bootId: bytes.subarray(SESSION_BOOT_OFFSET, SESSION_COUNTER_OFFSET),
    counter: view.getBigUint64(SESSION_COUNTER_OFFSET),
  };
}

/**
 * Authenticates and decrypts a session datagram with the receive key for its
 * (sender, boot). Returns the encoded Envelope, or null (never throws) when the datagram
 * is malformed or does not authenticate (wrong key, altered header or ciphertext).
 */
export function openSessionDatagram(suite: CryptoSuite, key: Uint8Array, bytes: Uint8Array): Uint8Array | null {
  if (bytes.length < SESSION_OVERHEAD || bytes.length > MAX_DATAGRAM_SIZE || bytes[0] !== PACKET_SESSION) return null;
  if (key.length !== AEAD_KEY_SIZE) return null;
  nonceView.setUint32(0, 0);
  nonceScratch.set(bytes.subarray(SESSION_COUNTER_OFFSET, SESSION_HEADER_SIZE), 4);
  try {
    return suite.open(key, nonceScratch, bytes.subarray(SESSION_HEADER_SIZE), bytes.subarray(0, SESSION_HEADER_SIZE));
  } catch {
    return null;
  }
}
