/**
 * The crypto suites that load in this process, for tests that must hold under every one:
 * `node` and `noble` always, `sodium` where the optional sodium-native package loads.
 * Set MCC_REQUIRE_SODIUM=1 to make a missing sodium suite an error instead of a silent skip.
 */

import { availableCryptoSuites, type CryptoSuite } from '../../src/crypto/index.js';

/** Every suite available here, `node` first. */
export const suites: readonly CryptoSuite[] = await availableCryptoSuites();

/** The libsodium suite, when sodium-native loaded. */
export const sodiumSuite: CryptoSuite | undefined = suites.find((suite) => suite.name === 'sodium');

if (sodiumSuite === undefined && process.env.MCC_REQUIRE_SODIUM === '1') {
  throw new Error('MCC_REQUIRE_SODIUM=1 but the sodium suite did not load (is sodium-native installed?)');
}

/** Every ordered pair of distinct available suites: one seals or signs, the other opens or verifies. */
export const suitePairs: ReadonlyArray<readonly [CryptoSuite, CryptoSuite]> = suites.flatMap((a) => suites.filter((b) => b !== a).map((b) => [a, b] as const));

/** The names of the available suites, for test titles. */
export const suiteNames: string = suites.map((suite) => suite.name).join(', ');
