/** Small byte helpers used across layers (Buffer-backed where that is faster). */

/** Lower-case hex of `bytes`. */
export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Bytes of a hex string; throws RangeError on odd length or non-hex characters. */
export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new RangeError('invalid hex string');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/** Byte-wise equality. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** UTF-8 encoding. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
