/**
 * Which {@link CryptoSuite} the tunnel benchmarks run: `--suite node|sodium|noble` (default `node`),
 * resolved by the product's own loader (`loadCryptoSuite`), so `sodium` is src/crypto/sodium-suite.ts
 * on sodium-native and fails (ERR_INVALID_ARGUMENT, saying why) where sodium-native does not load.
 */

import { loadCryptoSuite, type CryptoSuite } from '../src/crypto/index.js';

/** Suite names the tunnel benchmarks accept. */
export type BenchSuiteName = 'node' | 'sodium' | 'noble';

/** The `--suite` argument of this process (default `node`). */
export function suiteArgument(): BenchSuiteName {
  const i = process.argv.indexOf('--suite');
  const name = i > 0 ? process.argv[i + 1] : 'node';
  if (name !== 'node' && name !== 'sodium' && name !== 'noble') throw new Error(`--suite: expected node, sodium or noble, not ${name}`);
  return name;
}

/** Resolves a suite name to the suite the benchmark runs. */
export function benchSuite(name: BenchSuiteName): Promise<CryptoSuite> {
  return loadCryptoSuite(name);
}
