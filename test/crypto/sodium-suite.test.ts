/**
 * What is particular to the libsodium suite (skipped where sodium-native does not load):
 * one shared suite per process, strict signature checks, and the openInto scratch path.
 * The vector, cross-suite and interop tests cover its bytes.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadCryptoSuite, nobleCryptoSuite, nodeCryptoSuite } from '../../src/crypto/index.js';
import { loadSodiumSuite } from '../../src/crypto/sodium-suite.js';
import { sodiumSuite } from '../helpers/suites.js';

const skip = sodiumSuite === undefined ? 'sodium-native does not load here' : false;

describe('sodium suite', { skip }, () => {
  const sodium = sodiumSuite!;

  it('is loaded once per process and is what auto picks', async () => {
    assert.equal(await loadSodiumSuite(), sodium);
    assert.equal(await loadCryptoSuite('auto'), sodium);
    assert.equal(sodium.name, 'sodium');
    assert.ok(Object.isFrozen(sodium));
  });

  it('refuses a signature for a small-order public key, which anyone can make', () => {
    // Public key and R both the identity point, S = 0: [S]B = R + [k]A holds for every
    // message, so this "signs" anything. libsodium (and noble, strict mode) refuse it.
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const forged = new Uint8Array(64);
    forged[0] = 1;
    for (const message of [new Uint8Array(0), new TextEncoder().encode('any message at all')]) {
      assert.equal(sodium.verify(forged, message, identity), false);
      assert.equal(nobleCryptoSuite.verify(forged, message, identity), false);
    }
  });

  it('accepts every signature the other suites make, and only for the signed message', () => {
    for (let i = 0; i < 16; i++) {
      const secret = nodeCryptoSuite.randomBytes(32);
      const message = nodeCryptoSuite.randomBytes(1 + i * 50);
      const publicKey = nodeCryptoSuite.ed25519PublicKey(secret);
      for (const signer of [nodeCryptoSuite, nobleCryptoSuite]) {
        const signature = signer.sign(message, secret);
        assert.equal(sodium.verify(signature, message, publicKey), true);
        const other = Uint8Array.from(message);
        other[i % other.length] ^= 1;
        assert.equal(sodium.verify(signature, other, publicKey), false);
      }
    }
  });

  it('openInto handles datagrams larger than its scratch buffer, and a failure leaves the input intact', () => {
    const key = sodium.randomBytes(32);
    const nonce = sodium.randomBytes(12);
    for (const size of [100, 5000, 70_000, 1200]) {
      const plaintext = sodium.randomBytes(size);
      const sealed = sodium.seal(key, nonce, plaintext);
      const out = new Uint8Array(size);
      assert.equal(sodium.openInto!(key, nonce, sealed, undefined, out, 0), true);
      assert.deepEqual(out, plaintext);
      const tampered = Uint8Array.from(sealed);
      tampered[size >> 1] ^= 0x10;
      const copy = Uint8Array.from(tampered);
      // In place and failing: libsodium would zero its output, the suite must not.
      assert.equal(sodium.openInto!(key, nonce, tampered, undefined, tampered, 0), false);
      assert.deepEqual(tampered, copy);
    }
  });

  it('edPublicToX25519 (the libsodium map, the noble map for what libsodium refuses) agrees with noble on every input', () => {
    const convert = (suite: typeof sodium, key: Uint8Array): string => {
      try {
        return Buffer.from(suite.edPublicToX25519(key)).toString('hex');
      } catch (error) {
        return `throws ${(error as { code?: string }).code}`;
      }
    };
    const p = (bytes: number[]): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => bytes[i] ?? 0);
    const edges = [
      p([1]), // the identity
      p([0]), // order 4
      p([0xec, ...new Array<number>(30).fill(0xff), 0x7f]), // y = -1, order 2
      p([0xed, ...new Array<number>(30).fill(0xff), 0x7f]), // y = p: non-canonical 0
      p([0xee, ...new Array<number>(30).fill(0xff), 0x7f]), // y = p + 1: non-canonical identity
      p([0xee, ...new Array<number>(30).fill(0xff), 0xff]), // the same with the sign bit
      p([0xff, ...new Array<number>(30).fill(0xff), 0x7f]),
    ];
    // Random strings: about half decode to a point, most of those with a small-order component.
    const random = Array.from({ length: 200 }, () => sodium.randomBytes(32));
    const honest = Array.from({ length: 20 }, () => sodium.ed25519PublicKey(sodium.randomBytes(32)));
    let converted = 0;
    for (const key of [...edges, ...random, ...honest]) {
      const expected = convert(nobleCryptoSuite, key);
      assert.equal(convert(sodium, key), expected, Buffer.from(key).toString('hex'));
      if (!expected.startsWith('throws')) converted++;
    }
    assert.ok(converted > 60, `a fair share of the inputs were points (${converted})`);
  });

  it('x25519 refuses a low-order peer key with ERR_CRYPTO, like the other suites', () => {
    const secret = sodium.randomBytes(32);
    assert.throws(() => sodium.x25519(secret, new Uint8Array(32)), { code: 'ERR_CRYPTO' });
    const one = new Uint8Array(32);
    one[0] = 1;
    assert.throws(() => sodium.x25519(secret, one), { code: 'ERR_CRYPTO' });
  });
});
