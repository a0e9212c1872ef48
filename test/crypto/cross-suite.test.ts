/** Every available suite (node, noble, sodium where it loads) is interchangeable: same bytes, each accepts what the others make. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MccError } from '../../src/errors.js';
import { createCryptoSuite, defaultCryptoSuite, loadCryptoSuite, nobleCryptoSuite, nodeCryptoSuite } from '../../src/crypto/index.js';
import { SMALL_AEAD_BYTES } from '../../src/crypto/node-suite.js';
import { privateKeyImportPath } from '../../src/crypto/node-keys.js';
import { sodiumSuite, suitePairs, suites } from '../helpers/suites.js';

const ROUNDS = 24;
const node = nodeCryptoSuite;
const noble = nobleCryptoSuite;
const pairs = suitePairs;

/** Random length in [0, max] drawn from the suite's own RNG, so sizes vary run to run. */
function randomLength(max: number): number {
  const [a = 0, b = 0] = node.randomBytes(2);
  return ((a << 8) | b) % (max + 1);
}

function isInvalidArgument(error: unknown): boolean {
  return error instanceof MccError && error.code === 'ERR_INVALID_ARGUMENT';
}

describe('crypto suites: selection', () => {
  it('createCryptoSuite returns the synchronous suites; the synchronous fallback is node', () => {
    assert.equal(createCryptoSuite('node'), nodeCryptoSuite);
    assert.equal(createCryptoSuite('noble'), nobleCryptoSuite);
    assert.equal(defaultCryptoSuite, nodeCryptoSuite);
    assert.equal(node.name, 'node');
    assert.equal(noble.name, 'noble');
    assert.throws(() => createCryptoSuite('openssl' as 'node'), isInvalidArgument);
    assert.throws(
      () => createCryptoSuite('sodium' as 'node'),
      (error: unknown) => isInvalidArgument(error) && /loadCryptoSuite/.test(String(error)),
    );
  });

  it('loadCryptoSuite: auto picks sodium where it loads, else node; sodium loads once', async () => {
    assert.equal(await loadCryptoSuite('node'), nodeCryptoSuite);
    assert.equal(await loadCryptoSuite('noble'), nobleCryptoSuite);
    const auto = await loadCryptoSuite('auto');
    assert.equal(await loadCryptoSuite(), auto, 'auto is the default');
    if (sodiumSuite === undefined) {
      assert.equal(auto, nodeCryptoSuite);
      await assert.rejects(loadCryptoSuite('sodium'), (error: unknown) => isInvalidArgument(error) && /sodium-native/.test(String(error)));
    } else {
      assert.equal(auto, sodiumSuite);
      assert.equal(await loadCryptoSuite('sodium'), sodiumSuite, 'the same suite object every time');
      assert.equal(sodiumSuite.name, 'sodium');
    }
    await assert.rejects(loadCryptoSuite('libsodium' as 'node'), isInvalidArgument);
  });

  it('the node suite found its fast JWK key-import path sound on this Node', () => {
    // Not required for correctness (DER is the fallback), but a regression here costs ~10x on key import.
    assert.equal(privateKeyImportPath, 'jwk');
  });
});

describe('crypto suites: identical bytes across suites', () => {
  it('randomBytes returns plain Uint8Arrays of the requested length, not repeating', () => {
    for (const suite of suites) {
      const a = suite.randomBytes(32);
      const b = suite.randomBytes(32);
      assert.equal(Object.getPrototypeOf(a), Uint8Array.prototype);
      assert.equal(a.length, 32);
      assert.notDeepEqual(a, b);
      assert.equal(suite.randomBytes(0).length, 0);
      assert.equal(suite.randomBytes(70_000).length, 70_000);
      assert.throws(() => suite.randomBytes(-1), isInvalidArgument);
    }
  });

  it('sha256, hmacSha256 and hkdf agree on random inputs (including info longer than 1024 bytes)', () => {
    for (let i = 0; i < ROUNDS; i++) {
      const data = node.randomBytes(randomLength(3000));
      const key = node.randomBytes(randomLength(100));
      const salt = node.randomBytes(randomLength(64));
      const info = node.randomBytes(i === 0 ? 2000 : randomLength(1500));
      const length = 1 + randomLength(300);
      for (const suite of suites) {
        assert.deepEqual(suite.sha256(data), noble.sha256(data), suite.name);
        assert.deepEqual(suite.hmacSha256(key, data), noble.hmacSha256(key, data), suite.name);
        assert.deepEqual(suite.hkdf(data, salt, info, length), noble.hkdf(data, salt, info, length), suite.name);
      }
    }
    const ikm = node.randomBytes(32);
    const long = noble.hkdf(ikm, new Uint8Array(0), new Uint8Array(0), 8160);
    for (const suite of suites) assert.deepEqual(suite.hkdf(ikm, new Uint8Array(0), new Uint8Array(0), 8160), long, suite.name);
  });

  it('hkdf rejects out-of-range lengths identically', () => {
    const empty = new Uint8Array(0);
    for (const suite of suites) {
      for (const length of [0, -1, 8161, 1.5, Number.NaN]) {
        assert.throws(() => suite.hkdf(empty, empty, empty, length), isInvalidArgument, `${suite.name} ${length}`);
      }
    }
  });

  it('Ed25519: same public keys and signatures; each suite verifies the other', () => {
    for (let i = 0; i < ROUNDS; i++) {
      const secret = node.randomBytes(32);
      const message = node.randomBytes(randomLength(1500));
      const publicKey = node.ed25519PublicKey(secret);
      for (const suite of suites) assert.deepEqual(suite.ed25519PublicKey(secret), publicKey, suite.name);
      for (const [signer, verifier] of pairs) {
        const signature = signer.sign(message, secret);
        assert.equal(signature.length, 64);
        assert.equal(verifier.verify(signature, message, publicKey), true);
        const tampered = Uint8Array.from(message.length > 0 ? message : [0]);
        tampered[0] ^= 0x80;
        assert.equal(verifier.verify(signature, tampered, publicKey), false);
      }
      // Ed25519 is deterministic: every suite produces the same signature bytes.
      const expected = noble.sign(message, secret);
      for (const suite of suites) assert.deepEqual(suite.sign(message, secret), expected, suite.name);
    }
  });

  it('Ed25519: sign with a cached key still tracks the key bytes, not the array object', () => {
    for (const suite of suites) {
      const secret = node.randomBytes(32);
      const message = node.randomBytes(40);
      const first = suite.sign(message, secret);
      secret[0] ^= 0xff; // mutate in place: a stale cache would sign with the old key
      assert.deepEqual(suite.sign(message, secret), noble.sign(message, secret), suite.name);
      assert.notDeepEqual(suite.sign(message, secret), first, suite.name);
      // More keys than any signing cache holds, then the first again.
      for (let i = 0; i < 8; i++) suite.sign(message, node.randomBytes(32));
      assert.deepEqual(suite.sign(message, secret), noble.sign(message, secret), `${suite.name} after eviction`);
      assert.deepEqual(suite.ed25519PublicKey(secret), noble.ed25519PublicKey(secret), suite.name);
    }
  });

  it('X25519: same public keys and shared secrets across suites', () => {
    for (let i = 0; i < ROUNDS; i++) {
      const a = node.randomBytes(32);
      const b = node.randomBytes(32);
      const aPublic = node.x25519PublicKey(a);
      const bPublic = noble.x25519PublicKey(b);
      assert.deepEqual(noble.x25519PublicKey(a), aPublic);
      assert.deepEqual(node.x25519PublicKey(b), bPublic);
      const shared = node.x25519(a, bPublic);
      for (const suite of suites) {
        assert.deepEqual(suite.x25519PublicKey(a), aPublic, suite.name);
        assert.deepEqual(suite.x25519(a, bPublic), shared, suite.name);
        assert.deepEqual(suite.x25519(b, aPublic), shared, suite.name);
      }
    }
  });

  it('Ed25519 -> X25519 conversions agree across suites and give a consistent DH', () => {
    for (let i = 0; i < ROUNDS; i++) {
      const a = node.randomBytes(32);
      const b = node.randomBytes(32);
      const A = node.ed25519PublicKey(a);
      const B = node.ed25519PublicKey(b);
      for (const suite of suites) {
        const other = suite === node ? noble : node;
        const ax = suite.edSecretToX25519(a);
        const bx = suite.edSecretToX25519(b);
        assert.deepEqual(ax, other.edSecretToX25519(a));
        assert.deepEqual(suite.edPublicToX25519(A), other.edPublicToX25519(A));
        // The converted secret's X25519 public key is the converted Ed25519 public key.
        assert.deepEqual(suite.x25519PublicKey(ax), suite.edPublicToX25519(A));
        const ab = suite.x25519(ax, suite.edPublicToX25519(B));
        const ba = other.x25519(other.edSecretToX25519(b), other.edPublicToX25519(A));
        assert.deepEqual(ab, ba);
        assert.deepEqual(suite.x25519(bx, suite.edPublicToX25519(A)), ab);
      }
    }
  });

  it('edPublicToX25519 throws ERR_CRYPTO on an invalid point or length', () => {
    // y = 2 is not on the curve (x^2 would be a non-square).
    const notOnCurve = new Uint8Array(32);
    notOnCurve[0] = 2;
    for (const suite of suites) {
      for (const bad of [notOnCurve, new Uint8Array(31)]) {
        assert.throws(
          () => suite.edPublicToX25519(bad),
          (error: unknown) => error instanceof MccError && error.code === 'ERR_CRYPTO',
          suite.name,
        );
      }
    }
  });

  it('AEAD: one suite seals, the other opens; ciphertexts are identical', () => {
    for (let i = 0; i < ROUNDS; i++) {
      const key = node.randomBytes(32);
      const nonce = node.randomBytes(12);
      const plaintext = node.randomBytes(randomLength(1500));
      const aad = i % 3 === 0 ? undefined : node.randomBytes(randomLength(64));
      const sealed = node.seal(key, nonce, plaintext, aad);
      for (const suite of suites) assert.deepEqual(suite.seal(key, nonce, plaintext, aad), sealed, suite.name);
      assert.equal(sealed.length, plaintext.length + 16);
      for (const [sealer, opener] of pairs) {
        const box = sealer.seal(key, nonce, plaintext, aad);
        assert.deepEqual(opener.open(key, nonce, box, aad), plaintext);
        const tampered = Uint8Array.from(box);
        tampered[tampered.length - 1 - (i % tampered.length)] ^= 0x04;
        assert.equal(opener.open(key, nonce, tampered, aad), null);
      }
    }
  });

  it('AEAD: both node-suite paths (short: pure JS, long: OpenSSL) match noble and reject tampering', () => {
    const key = node.randomBytes(32);
    const nonce = node.randomBytes(12);
    const aad = node.randomBytes(20);
    for (const size of [0, 1, SMALL_AEAD_BYTES - 1, SMALL_AEAD_BYTES, SMALL_AEAD_BYTES + 1, 1200, 65_536]) {
      const plaintext = node.randomBytes(size);
      const sealed = node.seal(key, nonce, plaintext, aad);
      assert.deepEqual(sealed, noble.seal(key, nonce, plaintext, aad), `seal ${size}`);
      assert.deepEqual(node.open(key, nonce, sealed, aad), plaintext, `open ${size}`);
      const flip = (bytes: Uint8Array, index: number): Uint8Array => {
        const copy = Uint8Array.from(bytes);
        copy[index] ^= 0x20;
        return copy;
      };
      assert.equal(node.open(key, nonce, flip(sealed, sealed.length - 1), aad), null, `tag ${size}`);
      if (size > 0) assert.equal(node.open(key, nonce, flip(sealed, size - 1), aad), null, `ciphertext ${size}`);
      assert.equal(node.open(key, nonce, sealed, flip(aad, 0)), null, `aad ${size}`);
      assert.equal(node.open(key, nonce, sealed), null, `no aad ${size}`);
    }
  });

  it('AEAD: an empty aad is the same as no aad in every suite', () => {
    const key = node.randomBytes(32);
    const nonce = node.randomBytes(12);
    const plaintext = node.randomBytes(100);
    const sealed = node.seal(key, nonce, plaintext);
    for (const suite of suites) {
      assert.deepEqual(suite.seal(key, nonce, plaintext, new Uint8Array(0)), sealed, suite.name);
      assert.deepEqual(suite.open(key, nonce, sealed, new Uint8Array(0)), plaintext, suite.name);
      assert.deepEqual(suite.open(key, nonce, sealed), plaintext, suite.name);
    }
  });

  it('AEAD and key functions reject bad argument lengths with ERR_INVALID_ARGUMENT in every suite', () => {
    const key = node.randomBytes(32);
    const nonce = node.randomBytes(12);
    const data = node.randomBytes(20);
    for (const suite of suites) {
      assert.throws(() => suite.seal(key.subarray(1), nonce, data), isInvalidArgument);
      assert.throws(() => suite.seal(key, nonce.subarray(1), data), isInvalidArgument);
      assert.throws(() => suite.open(key, new Uint8Array(24), data), isInvalidArgument);
      assert.throws(() => suite.sign(data, key.subarray(1)), isInvalidArgument);
      assert.throws(() => suite.ed25519PublicKey(new Uint8Array(64)), isInvalidArgument);
      assert.throws(() => suite.x25519PublicKey(new Uint8Array(31)), isInvalidArgument);
      assert.throws(() => suite.edSecretToX25519(new Uint8Array(31)), isInvalidArgument);
      assert.throws(() => suite.x25519(new Uint8Array(31), key), isInvalidArgument);
    }
  });
});
