/**
 * Memory of signatures that verified. Records are fetched from many holders (a read asks
 * up to 20; discovery's providers sit on 20 nodes, each of which verified the same record on
 * STORE), and Ed25519 verification dominates the CPU of a read. A successful verification
 * is a pure fact about (signature, signed bytes, public key), so it is remembered in a
 * bounded LRU and the same record is checked once.
 *
 * The cache key is SHA-256 of signature || signed bytes, and the signed bytes include the
 * author, key, seq, expiry, flags, salt and value: a holder that alters any field (or pairs
 * a cached signature with another value) misses the cache and is verified, and fails. Only
 * successes are cached, so garbage cannot evict good entries faster than it costs to verify.
 * One cache per crypto suite, shared by every node of the process (simulations run
 * thousands), since suites might differ on edge-case signatures.
 */
import type { CryptoSuite } from '../crypto/types.js';

/** Entries kept per suite (about 100 bytes each). */
export const VERIFIED_CACHE_SIZE = 32_768;

const caches = new WeakMap<CryptoSuite, Map<string, true>>();

/** Counters, for tests and benchmarks. */
export const verifiedCacheStats = { hits: 0, verifications: 0 };

/** `suite.verify(signature, message, publicKey)`, answered from the cache when this exact triple verified before. */
export function verifyCached(suite: CryptoSuite, signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  let cache = caches.get(suite);
  if (cache === undefined) {
    cache = new Map();
    caches.set(suite, cache);
  }
  // The message holds the public key (records sign their author), so the triple is bound.
  const input = new Uint8Array(signature.length + message.length + publicKey.length);
  input.set(signature, 0);
  input.set(message, signature.length);
  input.set(publicKey, signature.length + message.length);
  const id = Buffer.from(suite.sha256(input)).toString('latin1');
  if (cache.has(id)) {
    // Refresh its place in the LRU order.
    cache.delete(id);
    cache.set(id, true);
    verifiedCacheStats.hits++;
    return true;
  }
  verifiedCacheStats.verifications++;
  if (!suite.verify(signature, message, publicKey)) return false;
  cache.set(id, true);
  if (cache.size > VERIFIED_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return true;
}
