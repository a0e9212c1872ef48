import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateIdentity, nodeCryptoSuite } from '../../src/crypto/index.js';
import type { CryptoSuite } from '../../src/crypto/types.js';
import { signRecord } from '../../src/kademlia/record.js';
import { RecordStore } from '../../src/kademlia/storage.js';
import type { SignedRecord } from '../../src/kademlia/types.js';

const NOW = 1_700_000_000_000;
const HOUR = 3600_000;
const key = nodeCryptoSuite.randomBytes(32);
const author = generateIdentity(nodeCryptoSuite);
const rec = (seq: number, expiresAt = NOW + HOUR) => signRecord(nodeCryptoSuite, author, { key, seq, expiresAt, value: new TextEncoder().encode(`v${seq}`) });
const forge = (record: SignedRecord): SignedRecord => {
  const signature = Uint8Array.from(record.signature);
  signature[0] ^= 1;
  return { ...record, signature };
};

/** A store whose suite counts signature verifications (its own verified-cache, too). */
function countingStore() {
  let now = NOW;
  const counter = { verifies: 0 };
  const suite: CryptoSuite = {
    ...nodeCryptoSuite,
    verify: (signature, message, publicKey) => {
      counter.verifies++;
      return nodeCryptoSuite.verify(signature, message, publicKey);
    },
  };
  const store = new RecordStore({ suite, wallClock: () => now });
  return { store, counter, setNow: (t: number) => (now = t) };
}

describe('RecordStore: cheap refusals before the signature check', () => {
  it('refuses an older or equal seq of a held author, and answers an identical re-store, without verifying', () => {
    const { store, counter } = countingStore();
    const held = rec(5);
    assert.deepEqual(store.put(key, held, 'a'), { ok: true });
    assert.equal(counter.verifies, 1);
    assert.deepEqual(store.put(key, forge(rec(3)), 'b'), { ok: false, reason: 'stale' });
    assert.deepEqual(store.put(key, forge(rec(5)), 'b'), { ok: false, reason: 'stale' });
    assert.deepEqual(store.put(key, Object.assign({}, held), 'c'), { ok: true }); // a holder's refresh: same bytes
    assert.equal(counter.verifies, 1);
    // A newer seq is verified (and a forged one refused).
    assert.deepEqual(store.put(key, forge(rec(6)), 'b'), { ok: false, reason: 'invalid' });
    assert.deepEqual(store.put(key, rec(6), 'a'), { ok: true });
    assert.equal(counter.verifies, 3);
    assert.equal(store.get(key)[0].seq, 6);
  });

  it('refuses a source without verifying once it caused 50 failed verifications, until its budget refills', () => {
    const { store, counter, setNow } = countingStore();
    for (let i = 0; i < 50; i++) assert.deepEqual(store.put(key, forge(rec(10 + i)), 'flooder'), { ok: false, reason: 'invalid' });
    assert.equal(counter.verifies, 50);
    assert.deepEqual(store.put(key, forge(rec(100)), 'flooder'), { ok: false, reason: 'limit' });
    assert.deepEqual(store.put(key, rec(101), 'flooder'), { ok: false, reason: 'limit' }); // even a valid one, for a while
    assert.equal(counter.verifies, 50);
    // Other sources are unaffected.
    assert.deepEqual(store.put(key, rec(1), 'honest'), { ok: true });
    assert.equal(counter.verifies, 51);
    // 100 ms later the flooder has 5 failures' worth again (50/s), and then is refused again.
    setNow(NOW + 100);
    const reasons = Array.from({ length: 10 }, (_, i) => store.put(key, forge(rec(200 + i)), 'flooder')).map((r) => (r.ok ? 'ok' : r.reason));
    assert.deepEqual(reasons, [...Array(5).fill('invalid'), ...Array(5).fill('limit')]);
    assert.equal(counter.verifies, 56);
    setNow(NOW + 2000);
    assert.deepEqual(store.put(key, rec(300), 'flooder'), { ok: true });
  });
});

describe('RecordStore: failed verifications per source network', () => {
  it("identities behind one /24 share a budget of 4x one source's: fresh node IDs do not buy fresh bursts", () => {
    const { store, counter } = countingStore();
    // 10 identities (sources) from one network, 50 failures each would be 500 verifications.
    let refused = 0;
    for (let id = 0; id < 10; id++) {
      for (let i = 0; i < 50; i++) {
        const result = store.put(key, forge(rec(1000 + id * 100 + i)), `sybil-${id}`, '203.0.113');
        if (!result.ok && result.reason === 'limit') refused++;
      }
    }
    assert.equal(counter.verifies, 200, 'the network budget (4 x 50) caps the verifications');
    assert.equal(refused, 300);
    // Another network is unaffected; so is a source without a network (loopback, LAN).
    assert.deepEqual(store.put(key, rec(1), 'other', '198.51.100'), { ok: true });
    assert.deepEqual(store.put(key, forge(rec(2)), 'local'), { ok: false, reason: 'invalid' });
  });
});
