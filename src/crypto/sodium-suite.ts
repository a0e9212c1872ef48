/**
 * The libsodium crypto suite, on the optional `sodium-native` package. It is loaded with
 * a dynamic import so that a machine without the package (or without a prebuild for its
 * platform) works unchanged on the `node` suite; see {@link loadSodiumSuite}.
 *
 * Same bytes as the other suites. Taken from elsewhere because libsodium lacks them or
 * they measured no faster there: HMAC-SHA-256 and HKDF (`node:crypto`; sodium-native
 * exposes no HMAC-SHA-256) and random bytes (`node:crypto`). The Ed25519 -> X25519
 * public-key map is libsodium's (2.6x faster in CPU time than noble's, bench/crypto.ts),
 * with noble's for the inputs libsodium refuses, so that the suites agree on every input.
 * Sessions do not use it: their own map (src/session/peer-x25519.ts) is faster still.
 */

import { ed25519 } from '@noble/curves/ed25519.js';
import { MccError, invalidArgument } from '../errors.js';
import {
  KEY_LENGTH,
  NONCE_LENGTH,
  SIGNATURE_LENGTH,
  TAG_LENGTH,
  checkAeadArguments,
  hasLength,
  isAllZero,
  lowOrderError,
  requireBytes,
  requireLength,
  requirePeerKey,
  secureRandomBytes,
} from './bytes.js';
import { nodeCryptoSuite } from './node-suite.js';
import type { CryptoSuite } from './types.js';

/**
 * The part of sodium-native's API this suite calls (the package ships no types of its
 * own, and `@types/sodium-native` describes an older major version). Every function
 * writes into its first argument; failures throw a plain `Error`.
 */
export interface SodiumNative {
  crypto_aead_chacha20poly1305_ietf_encrypt(c: Uint8Array, m: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, k: Uint8Array): number;
  crypto_aead_chacha20poly1305_ietf_decrypt(m: Uint8Array, nsec: null, c: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, k: Uint8Array): number;
  crypto_scalarmult(q: Uint8Array, n: Uint8Array, p: Uint8Array): void;
  crypto_scalarmult_base(q: Uint8Array, n: Uint8Array): void;
  crypto_sign_seed_keypair(pk: Uint8Array, sk: Uint8Array, seed: Uint8Array): void;
  crypto_sign_detached(sig: Uint8Array, m: Uint8Array, sk: Uint8Array): void;
  crypto_sign_verify_detached(sig: Uint8Array, m: Uint8Array, pk: Uint8Array): boolean;
  crypto_sign_ed25519_sk_to_curve25519(x25519sk: Uint8Array, ed25519sk: Uint8Array): void;
  crypto_sign_ed25519_pk_to_curve25519(x25519pk: Uint8Array, ed25519pk: Uint8Array): void;
  crypto_hash_sha256(out: Uint8Array, input: Uint8Array): void;
  sodium_memzero(buf: Uint8Array): void;
}

/** The functions {@link loadSodiumNative} checks for before trusting the module. */
const REQUIRED: ReadonlyArray<keyof SodiumNative> = [
  'crypto_aead_chacha20poly1305_ietf_encrypt',
  'crypto_aead_chacha20poly1305_ietf_decrypt',
  'crypto_scalarmult',
  'crypto_scalarmult_base',
  'crypto_sign_seed_keypair',
  'crypto_sign_detached',
  'crypto_sign_verify_detached',
  'crypto_sign_ed25519_sk_to_curve25519',
  'crypto_sign_ed25519_pk_to_curve25519',
  'crypto_hash_sha256',
  'sodium_memzero',
];

/**
 * A variable rather than a literal: TypeScript then neither looks for the package's
 * types nor fails to compile where it is not installed, and bundlers leave it alone.
 */
const SODIUM_PACKAGE = 'sodium-native';

let loading: Promise<SodiumNative> | undefined;

/**
 * Imports sodium-native once per process (the promise is shared, rejection included:
 * a module that failed to load will not load on a second try either).
 */
export function loadSodiumNative(): Promise<SodiumNative> {
  loading ??= (async () => {
    const imported = (await import(SODIUM_PACKAGE)) as { default?: unknown };
    // A CommonJS module: its exports object is the default export.
    const sodium = (imported.default ?? imported) as Partial<SodiumNative>;
    const missing = REQUIRED.filter((name) => typeof sodium[name] !== 'function');
    if (missing.length > 0) throw new Error(`sodium-native lacks ${missing.join(', ')}`);
    return sodium as SodiumNative;
  })();
  return loading;
}

/** Signing keys expanded to libsodium's 64-byte form, so a signature skips a scalar multiplication. */
const SIGNING_KEY_SLOTS = 4;

/**
 * Loads sodium-native and returns the `sodium` suite, after checking it against RFC
 * vectors (a broken build must not be chosen by `'auto'`). Rejects with the load or
 * check error; callers turn that into their own typed error.
 */
export function loadSodiumSuite(): Promise<CryptoSuite> {
  // One suite per process: its signing-key cache and scratch buffer are then shared.
  suiteLoading ??= loadSodiumNative().then((sodium) => {
    const suite = createSodiumSuite(sodium);
    selfCheck(suite);
    return suite;
  });
  return suiteLoading;
}

let suiteLoading: Promise<CryptoSuite> | undefined;

/** Builds the suite on an already loaded sodium-native module. */
export function createSodiumSuite(sodium: SodiumNative): CryptoSuite {
  // openInto decrypts here first: libsodium zeroes its output when the tag does not
  // authenticate, and openInto promises to write nothing then. Single-threaded, so one
  // scratch buffer serves every call; it grows to the largest datagram seen.
  let scratch = new Uint8Array(2048);
  // [seed copy, seed || public key] pairs, most recently used last.
  const signingKeys: Array<[Uint8Array, Uint8Array]> = [];

  function expandedSigningKey(seed: Uint8Array): Uint8Array {
    for (let i = signingKeys.length - 1; i >= 0; i--) {
      const entry = signingKeys[i];
      if (equalBytes(entry[0], seed)) {
        if (i !== signingKeys.length - 1) signingKeys.push(...signingKeys.splice(i, 1));
        return entry[1];
      }
    }
    const publicKey = new Uint8Array(KEY_LENGTH);
    const expanded = new Uint8Array(2 * KEY_LENGTH);
    sodium.crypto_sign_seed_keypair(publicKey, expanded, seed);
    signingKeys.push([Uint8Array.from(seed), expanded]);
    if (signingKeys.length > SIGNING_KEY_SLOTS) {
      const [oldSeed, oldExpanded] = signingKeys.shift()!;
      sodium.sodium_memzero(oldSeed);
      sodium.sodium_memzero(oldExpanded);
    }
    return expanded;
  }

  return Object.freeze({
    name: 'sodium',

    randomBytes: secureRandomBytes,

    sha256(data: Uint8Array): Uint8Array {
      requireBytes(data, 'data');
      const out = new Uint8Array(KEY_LENGTH);
      sodium.crypto_hash_sha256(out, data);
      return out;
    },

    hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
      return nodeCryptoSuite.hmacSha256(key, data);
    },

    hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
      return nodeCryptoSuite.hkdf(ikm, salt, info, length);
    },

    ed25519PublicKey(secretKey: Uint8Array): Uint8Array {
      requireLength(secretKey, KEY_LENGTH, 'secretKey');
      return expandedSigningKey(secretKey).slice(KEY_LENGTH);
    },

    sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
      requireBytes(message, 'message');
      requireLength(secretKey, KEY_LENGTH, 'secretKey');
      const signature = new Uint8Array(SIGNATURE_LENGTH);
      sodium.crypto_sign_detached(signature, message, expandedSigningKey(secretKey));
      return signature;
    },

    // libsodium is the strictest of the three verifiers: besides RFC 8032's checks it
    // refuses small-order public keys and R points. Every signature it accepts, the other
    // suites accept too; the signatures only they accept can only be made for keys
    // nobody holds a secret for (see docs/architecture.md, "Crypto suites").
    verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
      if (!hasLength(signature, SIGNATURE_LENGTH) || !hasLength(publicKey, KEY_LENGTH)) return false;
      if (!(message instanceof Uint8Array)) return false;
      try {
        return sodium.crypto_sign_verify_detached(signature, message, publicKey);
      } catch {
        return false;
      }
    },

    x25519PublicKey(secretKey: Uint8Array): Uint8Array {
      requireLength(secretKey, KEY_LENGTH, 'secretKey');
      const out = new Uint8Array(KEY_LENGTH);
      sodium.crypto_scalarmult_base(out, secretKey);
      return out;
    },

    x25519(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
      requireLength(secretKey, KEY_LENGTH, 'secretKey');
      requirePeerKey(publicKey, 'publicKey');
      const shared = new Uint8Array(KEY_LENGTH);
      try {
        // libsodium fails (status -1) exactly when the result is all zero.
        sodium.crypto_scalarmult(shared, secretKey, publicKey);
      } catch (error) {
        throw lowOrderError(error);
      }
      if (isAllZero(shared)) throw lowOrderError();
      return shared;
    },

    edPublicToX25519(publicKey: Uint8Array): Uint8Array {
      requirePeerKey(publicKey, 'publicKey');
      // libsodium's map measured 2.6x faster than noble's, but it also refuses small-order
      // and mixed-order points and may accept a non-canonical y. Those inputs (never an
      // honest key) go to noble's map instead, so every suite converts, or refuses, alike.
      if (isCanonicalY(publicKey)) {
        const out = new Uint8Array(KEY_LENGTH);
        try {
          sodium.crypto_sign_ed25519_pk_to_curve25519(out, publicKey);
          return out;
        } catch {
          // Fall through to the reference map below.
        }
      }
      return nobleEdPublicToX25519(publicKey);
    },

    edSecretToX25519(secretKey: Uint8Array): Uint8Array {
      requireLength(secretKey, KEY_LENGTH, 'secretKey');
      // Given the 32-byte seed, libsodium hashes it with SHA-512 and clamps: RFC 8032's scalar.
      const out = new Uint8Array(KEY_LENGTH);
      sodium.crypto_sign_ed25519_sk_to_curve25519(out, secretKey);
      return out;
    },

    seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array {
      checkAeadArguments(key, nonce, plaintext, aad);
      const out = new Uint8Array(plaintext.length + TAG_LENGTH);
      sodium.crypto_aead_chacha20poly1305_ietf_encrypt(out, plaintext, aad ?? null, null, nonce, key);
      return out;
    },

    open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array | null {
      checkAeadArguments(key, nonce, sealed, aad);
      if (sealed.length < TAG_LENGTH) return null;
      const out = new Uint8Array(sealed.length - TAG_LENGTH);
      try {
        sodium.crypto_aead_chacha20poly1305_ietf_decrypt(out, null, sealed, aad ?? null, nonce, key);
        return out;
      } catch {
        return null;
      }
    },

    // libsodium XORs the keystream block by block and MACs the ciphertext afterwards,
    // so sealing exactly in place is safe.
    sealInto(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined, out: Uint8Array, outOffset: number): void {
      const length = plaintext.length + TAG_LENGTH;
      checkInto(key, nonce, out, outOffset, length);
      sodium.crypto_aead_chacha20poly1305_ietf_encrypt(out.subarray(outOffset, outOffset + length), plaintext, aad ?? null, null, nonce, key);
    },

    openInto(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array | undefined, out: Uint8Array, outOffset: number): boolean {
      const length = sealed.length - TAG_LENGTH;
      if (length < 0) return false;
      checkInto(key, nonce, out, outOffset, length);
      if (scratch.length < length) scratch = new Uint8Array(Math.max(length, 2 * scratch.length));
      const body = scratch.subarray(0, length);
      try {
        sodium.crypto_aead_chacha20poly1305_ietf_decrypt(body, null, sealed, aad ?? null, nonce, key);
      } catch {
        return false;
      }
      out.set(body, outOffset);
      return true;
    },
  });
}

/** The project's reference map (as in the other suites); throws ERR_CRYPTO for a point it refuses. */
function nobleEdPublicToX25519(publicKey: Uint8Array): Uint8Array {
  try {
    return ed25519.utils.toMontgomery(publicKey);
  } catch (error) {
    throw new MccError('ERR_CRYPTO', 'invalid Ed25519 public key', { cause: error });
  }
}

/** True when the encoded y (sign bit aside) is below p = 2^255 - 19, i.e. the encoding is canonical. */
function isCanonicalY(encoded: Uint8Array): boolean {
  if ((encoded[31] & 0x7f) !== 0x7f) return true;
  for (let i = 30; i > 0; i--) if (encoded[i] !== 0xff) return true;
  return encoded[0] < 0xed;
}

/** Cheap checks of the `*Into` hot paths (same errors as the other suites'). */
function checkInto(key: Uint8Array, nonce: Uint8Array, out: Uint8Array, outOffset: number, length: number): void {
  if (key?.length !== KEY_LENGTH) throw invalidArgument('key', `must be a Uint8Array of ${KEY_LENGTH} bytes`);
  if (nonce?.length !== NONCE_LENGTH) throw invalidArgument('nonce', `must be a Uint8Array of ${NONCE_LENGTH} bytes`);
  if (!(outOffset >= 0) || out === undefined || outOffset + length > out.length) throw invalidArgument('out', 'has no room for the result at outOffset');
}

/** Byte equality of two 32-byte keys without early exit. */
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'));

/**
 * Known-answer checks run once at load (RFC 8439 2.8.2 tag, RFC 7748 6.1, RFC 8032
 * TEST 1): a module that loads but computes wrong bytes is refused like one that fails
 * to load. Costs well under a millisecond.
 */
function selfCheck(suite: CryptoSuite): void {
  const key = Uint8Array.from({ length: KEY_LENGTH }, (_, i) => 0x80 + i);
  const sealed = suite.seal(key, hex('070000004041424344454647'), new Uint8Array(114), hex('50515253c0c1c2c3c4c5c6c7'));
  const opened = suite.open(key, hex('070000004041424344454647'), sealed, hex('50515253c0c1c2c3c4c5c6c7'));
  const shared = suite.x25519(
    hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'),
    hex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f'),
  );
  const publicKey = suite.ed25519PublicKey(hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'));
  const agrees =
    sealed.length === 114 + TAG_LENGTH &&
    equalBytes(sealed, nodeCryptoSuite.seal(key, hex('070000004041424344454647'), new Uint8Array(114), hex('50515253c0c1c2c3c4c5c6c7'))) &&
    opened !== null &&
    isAllZero(opened) &&
    Buffer.from(shared).toString('hex') === '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742' &&
    Buffer.from(publicKey).toString('hex') === 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a' &&
    suite.verify(suite.sign(new Uint8Array(0), key), new Uint8Array(0), suite.ed25519PublicKey(key));
  if (!agrees) throw new Error('sodium-native failed the RFC 8439 / 7748 / 8032 self-check');
}
