/** The KeyObject cache stays bounded, evicts the least recently used key, and keeps ephemeral secrets out. */

import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { KeyObjectCache } from '../../src/crypto/key-object-cache.js';
import { nodeCryptoSuite } from '../../src/crypto/index.js';

const b64 = (raw: Uint8Array): string => Buffer.from(raw).toString('base64url');

describe('KeyObjectCache', () => {
  it('public keys: builds once per key, stays within capacity, evicts least recently used', () => {
    let builds = 0;
    const cache = new KeyObjectCache({
      capacity: 3,
      build: (raw) => {
        builds++;
        return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64(raw) }, format: 'jwk' });
      },
    });
    const keys = Array.from({ length: 5 }, () => nodeCryptoSuite.x25519PublicKey(nodeCryptoSuite.randomBytes(32)));
    const first: KeyObject = cache.get(keys[0]);
    cache.get(keys[1]);
    cache.get(keys[2]);
    assert.equal(cache.get(Uint8Array.from(keys[0])), first, 'hit by value, not by array identity');
    cache.get(keys[3]); // evicts keys[1], the least recently used
    assert.equal(cache.size, 3);
    assert.equal(builds, 4);
    cache.get(keys[0]);
    assert.equal(builds, 4, 'keys[0] survived eviction because it was used recently');
    cache.get(keys[1]);
    assert.equal(builds, 5, 'keys[1] was evicted and had to be rebuilt');
    for (const key of keys) cache.get(key);
    assert.equal(cache.size, 3);
  });

  it('secret keys: cached only after repeated use, so a handshake ephemeral key is never retained', () => {
    let builds = 0;
    const cache = new KeyObjectCache({
      capacity: 4,
      secret: true,
      admitAfterUses: 4,
      build: (raw) => {
        builds++;
        const x = b64(nodeCryptoSuite.x25519PublicKey(raw));
        return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64(raw), x }, format: 'jwk' });
      },
    });
    // An ephemeral key used three times (public key, two agreements) stays out of the cache.
    const ephemeral = nodeCryptoSuite.randomBytes(32);
    for (let i = 0; i < 3; i++) cache.get(ephemeral);
    assert.equal(cache.size, 0);
    // A long-term key is admitted on its fourth use and then served from the cache.
    const longTerm = nodeCryptoSuite.randomBytes(32);
    for (let i = 0; i < 4; i++) cache.get(longTerm);
    assert.equal(cache.size, 1);
    const before = builds;
    for (let i = 0; i < 10; i++) cache.get(longTerm);
    assert.equal(builds, before, 'served from the cache');
    // A flood of one-shot secrets neither enters the cache nor grows the use counts beyond the bound.
    for (let i = 0; i < 50; i++) cache.get(nodeCryptoSuite.randomBytes(32));
    assert.equal(cache.size, 1);
  });

  it('secret keys: an admitted key is found again by its array without rebuilding, and an array changed in place gets its own key', () => {
    let builds = 0;
    const cache = new KeyObjectCache({
      capacity: 4,
      secret: true,
      build: (raw) => {
        builds++;
        return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64(raw), x: b64(new Uint8Array(32)) }, format: 'jwk' });
      },
    });
    const secret = nodeCryptoSuite.randomBytes(32);
    for (let i = 0; i < 4; i++) cache.get(secret); // admitted on the fourth use
    const admitted = cache.get(secret);
    assert.equal(builds, 4);
    for (let i = 0; i < 10; i++) assert.equal(cache.get(secret), admitted);
    assert.equal(builds, 4, 'hits build nothing');
    const before = createPublicKey(admitted).export({ format: 'jwk' }).x;
    secret[1] ^= 1; // the same array, other bytes (not a bit X25519 clamping clears): must not get the old key
    const changed = cache.get(secret);
    assert.notEqual(createPublicKey(changed).export({ format: 'jwk' }).x, before);
    assert.equal(builds, 5);
  });
});
