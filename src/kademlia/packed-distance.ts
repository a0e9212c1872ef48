/**
 * Distance helpers over packed position arrays (contact-slab.ts), for the routing table's
 * nearest-first selection: allocation-free comparisons at offsets, and the packed sort keys.
 */
import { ID_LENGTH } from './types.js';

/** Packed sort keys hold (32-bit distance prefix) * INDEX_SPAN + entry index: exact in a double while index < 2^21. */
export const INDEX_SPAN = 2 ** 21;
/** Doubles a sort-key scratch array, keeping its contents. */
export function growKeys(keys: Float64Array): Float64Array {
  const bigger = new Float64Array(keys.length * 2);
  bigger.set(keys);
  return bigger;
}

/** True when the 32 bytes at `offset` of `bytes` equal `id` (no subarray per comparison). */
export function idAt(bytes: Uint8Array, offset: number, id: Uint8Array): boolean {
  if (id.length !== ID_LENGTH) return false;
  for (let i = 0; i < ID_LENGTH; i++) if (bytes[offset + i] !== id[i]) return false;
  return true;
}

/** Sign of d(a, target) - d(b, target) for positions stored at offsets of packed arrays. */
export function comparePacked(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset: number, target: Uint8Array): number {
  for (let i = 0; i < ID_LENGTH; i++) {
    const da = a[aOffset + i] ^ target[i];
    const db = b[bOffset + i] ^ target[i];
    if (da !== db) return da - db;
  }
  return 0;
}
