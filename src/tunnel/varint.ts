/**
 * QUIC variable-length integers (RFC 9000 §16): the two top bits of the first byte
 * give the length (1, 2, 4 or 8 bytes). Values are JS numbers, so the usable range
 * is 0..2^53-1; larger encodings are rejected on decode.
 */

/** Largest value {@link writeVarint} accepts. */
export const MAX_VARINT = Number.MAX_SAFE_INTEGER;

/** Encoded length of `value` in bytes. */
export function varintLength(value: number): number {
  if (value < 0x40) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x40000000) return 4;
  return 8;
}

/** Writes `value` at `offset`; returns the offset after it. The caller guarantees room. */
export function writeVarint(buffer: Uint8Array, offset: number, value: number): number {
  if (value < 0x40) {
    buffer[offset] = value;
    return offset + 1;
  }
  if (value < 0x4000) {
    buffer[offset] = 0x40 | (value >>> 8);
    buffer[offset + 1] = value & 0xff;
    return offset + 2;
  }
  if (value < 0x40000000) {
    buffer[offset] = 0x80 | (value >>> 24);
    buffer[offset + 1] = (value >>> 16) & 0xff;
    buffer[offset + 2] = (value >>> 8) & 0xff;
    buffer[offset + 3] = value & 0xff;
    return offset + 4;
  }
  // Split into two 32-bit halves: bitwise ops in JS only work on 32 bits.
  const high = Math.floor(value / 0x100000000);
  const low = value >>> 0;
  buffer[offset] = 0xc0 | (high >>> 24);
  buffer[offset + 1] = (high >>> 16) & 0xff;
  buffer[offset + 2] = (high >>> 8) & 0xff;
  buffer[offset + 3] = high & 0xff;
  buffer[offset + 4] = low >>> 24;
  buffer[offset + 5] = (low >>> 16) & 0xff;
  buffer[offset + 6] = (low >>> 8) & 0xff;
  buffer[offset + 7] = low & 0xff;
  return offset + 8;
}

/**
 * A forward-only reader over a byte slice. Every read returns -1 (varints) or null
 * (byte runs) when the input is short or malformed, so decoders on the receive path
 * drop bad packets without throwing.
 */
export class ByteReader {
  /** Current read position. */
  offset: number;

  constructor(
    readonly buffer: Uint8Array,
    offset = 0,
    readonly end = buffer.length,
  ) {
    this.offset = offset;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.end - this.offset;
  }

  /** Reads one byte, or -1 at the end. */
  byte(): number {
    if (this.offset >= this.end) return -1;
    return this.buffer[this.offset++];
  }

  /** Reads a varint, or -1 when short or above 2^53-1. */
  varint(): number {
    const b = this.buffer;
    const o = this.offset;
    if (o >= this.end) return -1;
    const first = b[o];
    const length = 1 << (first >>> 6);
    if (o + length > this.end) return -1;
    this.offset = o + length;
    switch (length) {
      case 1:
        return first;
      case 2:
        return ((first & 0x3f) << 8) | b[o + 1];
      case 4:
        return (first & 0x3f) * 0x1000000 + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
      default: {
        const high = (first & 0x3f) * 0x1000000 + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
        if (high > 0x1fffff) return -1; // would exceed 2^53 - 1
        const low = ((b[o + 4] << 24) >>> 0) + ((b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7]);
        return high * 0x100000000 + low;
      }
    }
  }

  /** Returns a view (no copy) of the next `length` bytes, or null when short. */
  bytes(length: number): Uint8Array | null {
    if (length < 0 || this.offset + length > this.end) return null;
    const view = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return view;
  }
}
