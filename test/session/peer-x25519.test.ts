import assert from 'node:assert/strict';
import test from 'node:test';
import { generateIdentity, nobleCryptoSuite, nodeCryptoSuite } from '../../src/crypto/index.js';
import { peerX25519PublicKey } from '../../src/session/peer-x25519.js';
import { computeSharedSecret } from '../../src/session/keys.js';

const P = (1n << 255n) - 19n;

function encodeY(y: bigint, signBit = false): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((y >> BigInt(8 * i)) & 0xffn);
  if (signBit) out[31] |= 0x80;
  return out;
}

test("peerX25519PublicKey gives the suites' bytes for real node IDs, either sign of x", () => {
  for (let i = 0; i < 300; i++) {
    const id = generateIdentity(nodeCryptoSuite).publicKey;
    assert.deepEqual(peerX25519PublicKey(id), nodeCryptoSuite.edPublicToX25519(id));
    assert.deepEqual(peerX25519PublicKey(id), nobleCryptoSuite.edPublicToX25519(id));
    const flipped = Uint8Array.from(id);
    flipped[31] ^= 0x80;
    assert.deepEqual(peerX25519PublicKey(flipped), peerX25519PublicKey(id));
  }
});

test('peerX25519PublicKey refuses wrong lengths, non-canonical y and the neutral point with ERR_CRYPTO', () => {
  for (const bad of [new Uint8Array(31), new Uint8Array(33), encodeY(P), encodeY(P + 5n), encodeY(1n), encodeY(1n, true)]) {
    assert.throws(() => peerX25519PublicKey(bad), { code: 'ERR_CRYPTO' });
  }
});

test('an ID that is not a curve point gives a secret the two ends cannot share, and low-order IDs are refused', () => {
  const alice = generateIdentity(nodeCryptoSuite);
  // y = 2 is not the y-coordinate of any Ed25519 point: agreement runs, nobody can match it.
  const notAPoint = encodeY(2n);
  assert.throws(() => nodeCryptoSuite.edPublicToX25519(notAPoint), { code: 'ERR_CRYPTO' });
  const secret = computeSharedSecret(nodeCryptoSuite, alice.secretKey, notAPoint);
  assert.equal(secret.length, 32);
  // y = p - 1 maps to u = 0, whose X25519 result is all zero: refused.
  assert.throws(() => computeSharedSecret(nodeCryptoSuite, alice.secretKey, encodeY(P - 1n)), { code: 'ERR_CRYPTO' });
});
