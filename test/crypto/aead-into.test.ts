/** The allocation-free AEAD forms (`sealInto` / `openInto`): same bytes as `seal` / `open`, in every available suite. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MccError } from '../../src/errors.js';
import { nobleCryptoSuite, nodeCryptoSuite, type CryptoSuite } from '../../src/crypto/index.js';
import { SMALL_AEAD_BYTES } from '../../src/crypto/node-suite.js';
import { suites } from '../helpers/suites.js';

const SIZES = [0, 1, 17, SMALL_AEAD_BYTES - 1, SMALL_AEAD_BYTES, SMALL_AEAD_BYTES + 1, 1167, 4096];

function isInvalidArgument(error: unknown): boolean {
  return error instanceof MccError && error.code === 'ERR_INVALID_ARGUMENT';
}

function into(suite: CryptoSuite): Required<Pick<CryptoSuite, 'sealInto' | 'openInto'>> {
  assert.equal(typeof suite.sealInto, 'function', `${suite.name} implements sealInto`);
  assert.equal(typeof suite.openInto, 'function', `${suite.name} implements openInto`);
  return { sealInto: suite.sealInto!.bind(suite), openInto: suite.openInto!.bind(suite) };
}

describe('crypto suites: sealInto / openInto', () => {
  const key = nodeCryptoSuite.randomBytes(32);
  const nonce = nodeCryptoSuite.randomBytes(12);
  const aad = nodeCryptoSuite.randomBytes(17);

  it('sealInto writes exactly the bytes seal returns, at the offset, touching nothing else', () => {
    for (const suite of suites) {
      const { sealInto } = into(suite);
      for (const size of SIZES) {
        for (const withAad of [aad, undefined]) {
          const plaintext = nodeCryptoSuite.randomBytes(size);
          const expected = nobleCryptoSuite.seal(key, nonce, plaintext, withAad);
          const out = new Uint8Array(size + 16 + 10).fill(0xee);
          sealInto(key, nonce, plaintext, withAad, out, 5);
          assert.deepEqual(out.subarray(5, 5 + size + 16), expected, `${suite.name} ${size}`);
          assert.ok(out.subarray(0, 5).every((b) => b === 0xee) && out.subarray(5 + size + 16).every((b) => b === 0xee), 'no stray writes');
        }
      }
    }
  });

  it('sealInto works in place (plaintext already at the output offset)', () => {
    for (const suite of suites) {
      const { sealInto } = into(suite);
      for (const size of SIZES) {
        const plaintext = nodeCryptoSuite.randomBytes(size);
        const buf = new Uint8Array(17 + size + 16);
        buf.set(plaintext, 17);
        sealInto(key, nonce, buf.subarray(17, 17 + size), aad, buf, 17);
        assert.deepEqual(buf.subarray(17), nodeCryptoSuite.seal(key, nonce, plaintext, aad), `${suite.name} ${size}`);
      }
    }
  });

  it('openInto recovers the plaintext across suites, also in place, and rejects tampering without writing', () => {
    for (const sealer of suites) {
      for (const opener of suites) {
        const { openInto } = into(opener);
        for (const size of SIZES) {
          const plaintext = nodeCryptoSuite.randomBytes(size);
          const sealed = sealer.seal(key, nonce, plaintext, aad);
          const out = new Uint8Array(size + 3);
          assert.equal(openInto(key, nonce, sealed, aad, out, 3), true);
          assert.deepEqual(out.subarray(3), plaintext, `${sealer.name} -> ${opener.name} ${size}`);
          const inPlace = Uint8Array.from(sealed);
          assert.equal(openInto(key, nonce, inPlace, aad, inPlace, 0), true);
          assert.deepEqual(inPlace.subarray(0, size), plaintext, `in place ${size}`);
          for (const index of [sealed.length - 1, 0]) {
            const tampered = Uint8Array.from(sealed);
            tampered[index] ^= 0x01;
            const untouched = new Uint8Array(size).fill(0x5a);
            assert.equal(openInto(key, nonce, tampered, aad, untouched, 0), false, `tampered byte ${index} of ${size}`);
            assert.ok(
              untouched.every((b) => b === 0x5a),
              'nothing written on failure',
            );
          }
          assert.equal(openInto(key, nonce, sealed, undefined, out, 3), false, 'aad is authenticated');
        }
      }
    }
  });

  it('openInto returns false for input shorter than a tag; bad key, nonce or room throw ERR_INVALID_ARGUMENT', () => {
    for (const suite of suites) {
      const { sealInto, openInto } = into(suite);
      assert.equal(openInto(key, nonce, new Uint8Array(15), undefined, new Uint8Array(16), 0), false);
      const plaintext = new Uint8Array(300);
      assert.throws(() => sealInto(key.subarray(1), nonce, plaintext, aad, new Uint8Array(400), 0), isInvalidArgument);
      assert.throws(() => sealInto(key, nonce.subarray(1), plaintext, aad, new Uint8Array(400), 0), isInvalidArgument);
      assert.throws(() => sealInto(key, nonce, plaintext, aad, new Uint8Array(315), 0), isInvalidArgument);
      assert.throws(() => sealInto(key, nonce, plaintext, aad, new Uint8Array(400), 100), isInvalidArgument);
      const sealed = suite.seal(key, nonce, plaintext, aad);
      assert.throws(() => openInto(key, nonce, sealed, aad, new Uint8Array(299), 0), isInvalidArgument);
      assert.throws(() => openInto(key.subarray(2), nonce, sealed, aad, new Uint8Array(300), 0), isInvalidArgument);
    }
  });
});
