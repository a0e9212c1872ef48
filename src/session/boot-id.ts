/**
 * Boot IDs: 8 bytes that change on every start of a node. They are folded into the key
 * derivation (so a restarted sender, whose counter starts again at 0, uses a fresh key
 * and never repeats a nonce) and into the replay rule (an older boot is stale).
 *
 * Layout: 48-bit wall-clock milliseconds (big-endian) || 16 random bits. The time prefix
 * makes a later boot compare greater than an earlier one as long as the wall clock moved
 * forward between the two starts; the random suffix separates boots in the same millisecond.
 */
import { invalidArgument } from '../errors.js';
import type { CryptoSuite } from '../crypto/types.js';
import { BOOT_ID_SIZE } from '../wire/constants.js';

/**
 * Creates this boot's ID. Called once per node start, at the edge (it reads wall time,
 * which protocol cores never do).
 * @param suite supplies the random suffix.
 * @param wallTimeMs Unix time in milliseconds; injectable for tests and test vectors.
 */
export function newBootId(suite: Pick<CryptoSuite, 'randomBytes'>, wallTimeMs: number = Date.now()): Uint8Array {
  if (!Number.isInteger(wallTimeMs) || wallTimeMs < 0 || wallTimeMs >= 2 ** 48) {
    throw invalidArgument('wallTimeMs', 'expected an integer in [0, 2^48)');
  }
  const id = new Uint8Array(BOOT_ID_SIZE);
  const high = Math.floor(wallTimeMs / 2 ** 32);
  const low = wallTimeMs >>> 0;
  id[0] = high >>> 8;
  id[1] = high & 0xff;
  id[2] = low >>> 24;
  id[3] = (low >>> 16) & 0xff;
  id[4] = (low >>> 8) & 0xff;
  id[5] = low & 0xff;
  id.set(suite.randomBytes(2).subarray(0, 2), 6);
  return id;
}

/** Wall-clock milliseconds encoded in a boot ID (for logs and diagnostics). */
export function bootIdTime(bootId: Uint8Array): number {
  return ((bootId[0] << 8) | bootId[1]) * 2 ** 32 + (((bootId[2] << 24) | (bootId[3] << 16) | (bootId[4] << 8) | bootId[5]) >>> 0);
}

/** Orders two boot IDs as unsigned big-endian integers: negative, zero or positive like `Array.sort` comparators. */
export function compareBootIds(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < BOOT_ID_SIZE; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
