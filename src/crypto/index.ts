/**
 * The crypto module: interchangeable {@link CryptoSuite}s with identical wire bytes
 * (`node:crypto`, pure JS, and libsodium through the optional `sodium-native`), and the
 * node identity helpers built on them.
 */

import { MccError, invalidArgument } from '../errors.js';
import { nobleCryptoSuite } from './noble-suite.js';
import { nodeCryptoSuite } from './node-suite.js';
import { loadSodiumSuite } from './sodium-suite.js';
import type { CryptoSuite } from './types.js';

export type { CryptoSuite, KeyPair } from './types.js';
export { nodeCryptoSuite } from './node-suite.js';
export { nobleCryptoSuite } from './noble-suite.js';
export {
  IDENTITY_FILE_TYPE,
  IDENTITY_FILE_VERSION,
  dhtPosition,
  generateIdentity,
  identityFromSecret,
  loadIdentity,
  loadOrCreateIdentity,
  nodeIdToHex,
  resolveIdentity,
  saveIdentity,
} from './identity.js';

/**
 * Names of the built-in suites, accepted by {@link loadCryptoSuite} and the node's
 * `crypto` option: `'node'` (`node:crypto`), `'noble'` (pure JS), `'sodium'` (libsodium
 * through the optional `sodium-native` package) and `'auto'` (sodium where it loads,
 * else node; the default).
 */
export type CryptoSuiteName = 'auto' | 'node' | 'noble' | 'sodium';

/** The suites that need no loading, which {@link createCryptoSuite} returns synchronously. */
export type SyncCryptoSuiteName = 'node' | 'noble';

/** The name a node uses when its options name no suite. */
export const DEFAULT_CRYPTO_SUITE: CryptoSuiteName = 'auto';

/**
 * The suite synchronous code falls back on when none is passed (identity helpers, tools),
 * and the one `'auto'` picks where sodium-native does not load: `node:crypto`.
 */
export const defaultCryptoSuite: CryptoSuite = nodeCryptoSuite;

const SUITE_NAMES: readonly CryptoSuiteName[] = ['auto', 'node', 'noble', 'sodium'];

/**
 * Returns a suite that needs no loading; throws `ERR_INVALID_ARGUMENT` for any other
 * name (use {@link loadCryptoSuite} for `'sodium'` and `'auto'`).
 */
export function createCryptoSuite(name: SyncCryptoSuiteName): CryptoSuite {
  switch (name) {
    case 'node':
      return nodeCryptoSuite;
    case 'noble':
      return nobleCryptoSuite;
    default:
      if (SUITE_NAMES.includes(name)) throw invalidArgument('name', `the "${String(name)}" suite loads asynchronously: use loadCryptoSuite()`);
      throw invalidArgument('name', `unknown crypto suite "${String(name)}" (expected "auto", "node", "noble" or "sodium")`);
  }
}

/**
 * Returns the named suite, loading sodium-native for `'sodium'` and `'auto'` (once per
 * process). `'auto'` settles on `'node'` when sodium-native is missing, fails to load or
 * fails its self-check; `'sodium'` then rejects with `ERR_INVALID_ARGUMENT` naming
 * `name` and carrying the load error as its `cause` and in its message.
 */
export async function loadCryptoSuite(name: CryptoSuiteName = DEFAULT_CRYPTO_SUITE): Promise<CryptoSuite> {
  if (name === 'auto') return loadSodiumSuite().catch(() => nodeCryptoSuite);
  if (name !== 'sodium') return createCryptoSuite(name);
  try {
    return await loadSodiumSuite();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MccError(
      'ERR_INVALID_ARGUMENT',
      `invalid argument "name": the "sodium" suite needs the optional dependency sodium-native, which did not load (${reason})`,
      {
        cause: error,
        details: { argument: 'name' },
      },
    );
  }
}

/**
 * The suites that work in this process: `node` and `noble` always, `sodium` where
 * sodium-native loads. Tests and benchmarks run under each.
 */
export async function availableCryptoSuites(): Promise<CryptoSuite[]> {
  const sodium = await loadSodiumSuite().catch(() => undefined);
  return sodium === undefined ? [nodeCryptoSuite, nobleCryptoSuite] : [nodeCryptoSuite, nobleCryptoSuite, sodium];
}
