/**
 * The crypto module: two interchangeable {@link CryptoSuite}s with identical wire bytes,
 * and the node identity helpers built on them.
 */

import { invalidArgument } from '../errors.js';
import { nobleCryptoSuite } from './noble-suite.js';
import { nodeCryptoSuite } from './node-suite.js';
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

/** Names accepted by {@link createCryptoSuite}. */
export type CryptoSuiteName = 'node' | 'noble';

/** The suite used when none is configured: `node:crypto`, the fastest on Node. */
export const defaultCryptoSuite: CryptoSuite = nodeCryptoSuite;

/** Returns the suite of the given name; throws `ERR_INVALID_ARGUMENT` for an unknown name. */
export function createCryptoSuite(name: CryptoSuiteName): CryptoSuite {
  switch (name) {
    case 'node':
      return nodeCryptoSuite;
    case 'noble':
      return nobleCryptoSuite;
    default:
      throw invalidArgument('name', `unknown crypto suite "${String(name)}" (expected "node" or "noble")`);
  }
}
