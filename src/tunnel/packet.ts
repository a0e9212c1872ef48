/**
 * Tunnel packet protection. A packet is
 *
 *   0x12 | receiver's connection ID (8) | packet number (8, big-endian) | ChaCha20-Poly1305(frames) + tag (16)
 *
 * with the 17-byte header as associated data and nonce = 4 zero bytes + packet number.
 * Keys rotate every {@link KEY_GENERATION_PACKETS} packet numbers: generation g+1's key is
 * HKDF(key_g, "mcc tunnel rekey"), so the generation is implied by the packet number and
 * needs no signalling; a sender rotating early (time limit) skips its packet number to
 * the next boundary. Old keys are wiped, so a key captured later cannot open earlier traffic.
 */

import type { CryptoSuite } from '../crypto/types.js';
import { CID_LENGTH } from './handshake.js';
import { MAX_INNER_DATAGRAM_SIZE, PACKET_RELAYED, PACKET_TUNNEL } from '../wire/constants.js';

/** First byte of a tunnel datagram. */
export const TUNNEL_PACKET_TYPE = PACKET_TUNNEL;
/** First byte of a datagram relayed through a third node (which may carry a tunnel datagram). */
export const RELAYED_PACKET_TYPE = PACKET_RELAYED;
/** Header bytes: type, connection ID, packet number. */
export const HEADER_LENGTH = 1 + CID_LENGTH + 8;
/** AEAD tag bytes. */
export const TAG_LENGTH = 16;
/** Largest datagram the tunnel sends: 1200 less the 9-byte relay header, so tunnels fit relay circuits (src/nat). */
export const MAX_DATAGRAM = MAX_INNER_DATAGRAM_SIZE;
/** Largest frame payload per packet. */
export const MAX_PAYLOAD = MAX_DATAGRAM - HEADER_LENGTH - TAG_LENGTH;
/** Packet numbers per key generation (2^20 packets is about 1.2 GB). */
export const KEY_GENERATION_PACKETS = 2 ** 20;

const REKEY_INFO = new TextEncoder().encode('mcc tunnel rekey');
const EMPTY = new Uint8Array(0);

/** Next key generation; one-way, so old keys cannot be recomputed from newer ones. */
export function nextGenerationKey(suite: CryptoSuite, key: Uint8Array): Uint8Array {
  return suite.hkdf(key, EMPTY, REKEY_INFO, 32);
}

/** Writes the 8-byte packet number at `at`. */
function writePacketNumber(buf: Uint8Array, at: number, pn: number): void {
  const high = Math.floor(pn / 0x100000000);
  const low = pn >>> 0;
  buf[at] = high >>> 24;
  buf[at + 1] = (high >>> 16) & 0xff;
  buf[at + 2] = (high >>> 8) & 0xff;
  buf[at + 3] = high & 0xff;
  buf[at + 4] = low >>> 24;
  buf[at + 5] = (low >>> 16) & 0xff;
  buf[at + 6] = (low >>> 8) & 0xff;
  buf[at + 7] = low & 0xff;
}

function readPacketNumber(buf: Uint8Array, at: number): number {
  const high = ((buf[at] << 24) >>> 0) + ((buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]);
  const low = ((buf[at + 4] << 24) >>> 0) + ((buf[at + 5] << 16) | (buf[at + 6] << 8) | buf[at + 7]);
  return high * 0x100000000 + low;
}

/** The connection ID of a tunnel datagram as a map key, or null when it is not one. */
export function packetCidKey(datagram: Uint8Array): string | null {
  if (datagram.length < HEADER_LENGTH + TAG_LENGTH || datagram[0] !== TUNNEL_PACKET_TYPE) return null;
  return cidKey(datagram.subarray(1, 1 + CID_LENGTH));
}

/** Hex form of a connection ID, used as a map key. */
export function cidKey(cid: Uint8Array): string {
  let out = '';
  for (let i = 0; i < cid.length; i++) out += (cid[i] < 16 ? '0' : '') + cid[i].toString(16);
  return out;
}

/** Seals outgoing packets for one connection. */
export class PacketSealer {
  private generation = 0;
  private readonly nonce = new Uint8Array(12);
  /**
   * The header of the packet being sealed, kept apart as the associated data: one fixed
   * array instead of a fresh view into the datagram per packet. Type and CID never change.
   */
  private readonly header = new Uint8Array(HEADER_LENGTH);

  constructor(
    private readonly suite: CryptoSuite,
    private key: Uint8Array,
    remoteCid: Uint8Array,
  ) {
    this.header[0] = TUNNEL_PACKET_TYPE;
    this.header.set(remoteCid, 1);
  }

  /** Seals `payload` as packet `pn` (packet numbers must only grow); allocates the datagram. */
  seal(pn: number, payload: Uint8Array): Uint8Array {
    const out = new Uint8Array(HEADER_LENGTH + payload.length + TAG_LENGTH);
    out.set(payload, HEADER_LENGTH);
    return out.subarray(0, this.sealInPlace(pn, out, 0, payload.length));
  }

  /**
   * Seals in place: the caller wrote `payloadLength` bytes of frames at
   * `buf[offset + HEADER_LENGTH]`; the header goes in front and the tag behind them.
   * Returns the datagram length. No allocation of ours when the suite has `sealInto`.
   */
  sealInPlace(pn: number, buf: Uint8Array, offset: number, payloadLength: number): number {
    if (pn >= (this.generation + 1) * KEY_GENERATION_PACKETS) this.rotate(Math.floor(pn / KEY_GENERATION_PACKETS));
    const header = this.header;
    writePacketNumber(header, 1 + CID_LENGTH, pn);
    writePacketNumber(this.nonce, 4, pn);
    buf.set(header, offset);
    const payloadAt = offset + HEADER_LENGTH;
    const payload = buf.subarray(payloadAt, payloadAt + payloadLength);
    if (this.suite.sealInto !== undefined) this.suite.sealInto(this.key, this.nonce, payload, header, buf, payloadAt);
    else buf.set(this.suite.seal(this.key, this.nonce, payload, header), payloadAt);
    return HEADER_LENGTH + payloadLength + TAG_LENGTH;
  }

  /** Derives keys up to `generation`, wiping each one it leaves behind. */
  private rotate(generation: number): void {
    while (this.generation < generation) {
      const next = nextGenerationKey(this.suite, this.key);
      this.key.fill(0);
      this.key = next;
      this.generation++;
    }
  }
}

/**
 * Opens incoming packets for one connection. Keeps the keys of the previous, current
 * and next generation only, so a reordered packet across a rotation still opens, and a
 * forged far-future packet number costs no key derivation at all.
 */
export class PacketOpener {
  private generation = 0;
  private previous: Uint8Array | null = null;
  private next: Uint8Array;
  private readonly nonce = new Uint8Array(12);
  /** The header of the datagram being opened, copied out as the associated data (no view per packet). */
  private readonly header = new Uint8Array(HEADER_LENGTH);

  constructor(
    private readonly suite: CryptoSuite,
    private current: Uint8Array,
  ) {
    this.next = nextGenerationKey(suite, current);
  }

  /** Packet number of the datagram {@link open} authenticated last. */
  pn = -1;

  /**
   * Decrypts a datagram into a fresh Buffer (the transport may reuse `datagram`, and
   * received stream data is kept as views of the plaintext). Returns the frames, with
   * the packet number in {@link pn}, or null when it does not authenticate.
   */
  open(datagram: Uint8Array): Uint8Array | null {
    if (datagram.length < HEADER_LENGTH + TAG_LENGTH || datagram[0] !== TUNNEL_PACKET_TYPE) return null;
    const pn = readPacketNumber(datagram, 1 + CID_LENGTH);
    const generation = Math.floor(pn / KEY_GENERATION_PACKETS);
    let key: Uint8Array | null;
    if (generation === this.generation) key = this.current;
    else if (generation === this.generation + 1) key = this.next;
    else if (generation === this.generation - 1) key = this.previous;
    else key = null;
    if (key === null) return null;
    writePacketNumber(this.nonce, 4, pn);
    const header = this.header;
    for (let i = 0; i < HEADER_LENGTH; i++) header[i] = datagram[i]!;
    const sealed = datagram.subarray(HEADER_LENGTH);
    // `open` allocates the plaintext once (node:crypto: update()'s own output, no copy);
    // `openInto` would need a buffer of ours and a copy into it.
    const plain = this.suite.open(key, this.nonce, sealed, header);
    if (plain === null) return null;
    // As a Buffer, every view of it (received stream chunks) is a Buffer too, and the
    // Duplex pushes them without wrapping each one.
    const payload = Buffer.from(plain.buffer, plain.byteOffset, plain.length);
    if (generation === this.generation + 1) this.advance();
    this.pn = pn;
    return payload;
  }

  /** Moves to the next generation once the peer has proven it uses it; wipes the oldest key. */
  private advance(): void {
    this.previous?.fill(0);
    this.previous = this.current;
    this.current = this.next;
    this.next = nextGenerationKey(this.suite, this.current);
    this.generation++;
  }
}
