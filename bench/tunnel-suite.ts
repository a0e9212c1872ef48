/**
 * Which {@link CryptoSuite} the tunnel benchmarks run: `--suite node|sodium|noble` (default `node`).
 *
 * `sodium` is the project's libsodium suite (src/crypto/sodium-suite.ts, issue 19) when that
 * file exists. Until it lands, a stand-in for the benchmark only: the `node` suite with its
 * ChaCha20-Poly1305 calls replaced by sodium-native's (installed here as a dependency of the
 * hyperdht yardstick), named `sodium-aead (bench stand-in)` in every table so the figures are
 * never mistaken for the real suite's.
 */

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { nobleCryptoSuite, nodeCryptoSuite, type CryptoSuite } from '../src/crypto/index.js';

/** Suite names the tunnel benchmarks accept. */
export type BenchSuiteName = 'node' | 'sodium' | 'noble';

/** The `--suite` argument of this process (default `node`). */
export function suiteArgument(): BenchSuiteName {
  const i = process.argv.indexOf('--suite');
  const name = i > 0 ? process.argv[i + 1] : 'node';
  if (name !== 'node' && name !== 'sodium' && name !== 'noble') throw new Error(`--suite: expected node, sodium or noble, not ${name}`);
  return name;
}

const TAG = 16;

interface SodiumAead {
  crypto_aead_chacha20poly1305_ietf_encrypt(c: Uint8Array, m: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, k: Uint8Array): number;
  crypto_aead_chacha20poly1305_ietf_decrypt(m: Uint8Array, nsec: null, c: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, k: Uint8Array): number;
}

/** The benchmark stand-in: node suite, AEAD through sodium-native. */
function sodiumAeadStandIn(): CryptoSuite {
  const sodium = createRequire(import.meta.url)('sodium-native') as SodiumAead;
  const encrypt = (key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined, out: Uint8Array): void => {
    sodium.crypto_aead_chacha20poly1305_ietf_encrypt(out, plaintext, aad ?? null, null, nonce, key);
  };
  const decrypt = (key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array | undefined, out: Uint8Array): boolean => {
    try {
      sodium.crypto_aead_chacha20poly1305_ietf_decrypt(out, null, sealed, aad ?? null, nonce, key);
      return true;
    } catch {
      return false;
    }
  };
  return {
    ...nodeCryptoSuite,
    name: 'sodium-aead (bench stand-in)',
    seal(key, nonce, plaintext, aad) {
      const out = new Uint8Array(plaintext.length + TAG);
      encrypt(key, nonce, plaintext, aad, out);
      return out;
    },
    open(key, nonce, sealed, aad) {
      if (sealed.length < TAG) return null;
      const out = new Uint8Array(sealed.length - TAG);
      return decrypt(key, nonce, sealed, aad, out) ? out : null;
    },
    sealInto(key, nonce, plaintext, aad, out, outOffset) {
      encrypt(key, nonce, plaintext, aad, out.subarray(outOffset, outOffset + plaintext.length + TAG));
    },
    openInto(key, nonce, sealed, aad, out, outOffset) {
      if (sealed.length < TAG) return false;
      return decrypt(key, nonce, sealed, aad, out.subarray(outOffset, outOffset + sealed.length - TAG));
    },
  };
}

/** Resolves a suite name to the suite the benchmark runs (see the file comment for `sodium`). */
export async function benchSuite(name: BenchSuiteName): Promise<CryptoSuite> {
  if (name === 'node') return nodeCryptoSuite;
  if (name === 'noble') return nobleCryptoSuite;
  const real = fileURLToPath(new URL('../src/crypto/sodium-suite.ts', import.meta.url));
  if (existsSync(real)) {
    // A path in a variable: tsc must not resolve a module that may not exist yet.
    const specifier = '../src/crypto/sodium-suite.js';
    const module = (await import(specifier)) as Record<string, unknown>;
    for (const value of Object.values(module)) {
      if (value !== null && typeof value === 'object' && (value as CryptoSuite).name === 'sodium') return value as CryptoSuite;
    }
  }
  return sodiumAeadStandIn();
}
