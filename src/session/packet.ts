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
// Its first four bytes stay zero; the counter goes into the last eight.
const nonceScratch = new Uint8Array(AEAD_NONCE_SIZE);
const TWO_POW_32 = 2 ** 32;

/**
 * Writes the counter big-endian at `offset`. Numbers (what the session layer passes) are
 * written byte by byte: no DataView and no BigInt per datagram.
 */
function writeCounter(out: Uint8Array, offset: number, counter: number | bigint): void {
  if (typeof counter === 'number') {
    if (!Number.isSafeInteger(counter) || counter < 0) throw invalidArgument('counter', 'expected a non-negative safe integer');
    const high = Math.floor(counter / TWO_POW_32);
    const low = counter >>> 0;
    out[offset] = high >>> 24;
    out[offset + 1] = (high >>> 16) & 0xff;
    out[offset + 2] = (high >>> 8) & 0xff;
    out[offset + 3] = high & 0xff;
    out[offset + 4] = low >>> 24;
    out[offset + 5] = (low >>> 16) & 0xff;
    out[offset + 6] = (low >>> 8) & 0xff;
    out[offset + 7] = low & 0xff;
  } else {
    if (counter < 0n || counter > MAX_COUNTER) throw invalidArgument('counter', 'expected a bigint in [0, 2^64)');
    new DataView(out.buffer, out.byteOffset, out.byteLength).setBigUint64(offset, counter);
  }
}

/** Copies the datagram's counter into the scratch nonce (bytes 4..11). */
function loadNonce(datagram: Uint8Array): Uint8Array {
  for (let i = 0; i < 8; i++) nonceScratch[4 + i] = datagram[SESSION_COUNTER_OFFSET + i];
  return nonceScratch;
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
  out[0] = PACKET_SESSION;
  out.set(senderId, SESSION_SENDER_OFFSET);
  out.set(bootId, SESSION_BOOT_OFFSET);
  writeCounter(out, SESSION_COUNTER_OFFSET, counter);
  const nonce = loadNonce(out);
  const aad = out.subarray(0, SESSION_HEADER_SIZE);
  // Sealed straight into the datagram where the suite can; else one copy of <= 1151 bytes.
  if (suite.sealInto) suite.sealInto(key, nonce, envelopeBytes, aad, out, SESSION_HEADER_SIZE);
  else out.set(suite.seal(key, nonce, envelopeBytes, aad), SESSION_HEADER_SIZE);
  return out;
}

/**
 * The datagram's counter: a number below 2^53 (every counter a session layer sends, so no
 * BigInt per datagram), else a bigint. The caller checked the size and kind (see
 * {@link parseSessionHeader}); nothing is authenticated yet.
 */
export function sessionCounter(datagram: Uint8Array): number | bigint {
  const o = SESSION_COUNTER_OFFSET;
  const high = ((datagram[o] << 24) | (datagram[o + 1] << 16) | (datagram[o + 2] << 8) | datagram[o + 3]) >>> 0;
  const low = ((datagram[o + 4] << 24) | (datagram[o + 5] << 16) | (datagram[o + 6] << 8) | datagram[o + 7]) >>> 0;
  if (high < 0x20_0000) return high * TWO_POW_32 + low;
  return (BigInt(high) << 32n) | BigInt(low);
}

/**
 * Reads the cleartext header. Returns null (never throws) for anything that is not a
 * well-formed session datagram: wrong kind/version byte, or too short to hold header and tag.
 * Nothing in the result is authenticated until {@link openSessionDatagram} succeeds.
 */
export function parseSessionHeader(bytes: Uint8Array): SessionHeader | null {
  if (!(bytes instanceof Uint8Array) || bytes.length < SESSION_OVERHEAD || bytes[0] !== PACKET_SESSION) return null;
  const counter = sessionCounter(bytes);
  return {
    senderId: bytes.subarray(SESSION_SENDER_OFFSET, SESSION_BOOT_OFFSET),
    bootId: bytes.subarray(SESSION_BOOT_OFFSET, SESSION_COUNTER_OFFSET),
    counter: typeof counter === 'bigint' ? counter : BigInt(counter),
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
  const nonce = loadNonce(bytes);
  try {
    return suite.open(key, nonce, bytes.subarray(SESSION_HEADER_SIZE), bytes.subarray(0, SESSION_HEADER_SIZE));
  } catch {
    return null;
  }
}
