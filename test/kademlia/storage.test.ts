import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateIdentity, nodeCryptoSuite } from '../../src/crypto/index.js';
import { immutableKey, namespacedKey, KEY_NAMESPACE } from '../../src/kademlia/keyspace.js';
import { checkRecord, createImmutableRecord, createMutableRecord, signRecord } from '../../src/kademlia/record.js';
import { RecordStore } from '../../src/kademlia/storage.js';
import type { SignedRecord } from '../../src/kademlia/types.js';

const suite = nodeCryptoSuite;
const NOW = 1_700_000_000_000;
const HOUR = 3600_000;
const text = (s: string) => new TextEncoder().encode(s);

function newStore(limits: { maxRecords?: number; maxPerKey?: number; maxPerSource?: number } = {}) {
  let now = NOW;
  const store = new RecordStore({ suite, wallClock: () => now, ...limits });
  return { store, setNow: (t: number) => (now = t) };
}

describe('records', () => {
  it('keys immutable values by their hash and rejects a value that does not match its key', () => {
    const record = createImmutableRecord(suite, text('hello'), NOW + HOUR);
    assert.deepEqual(record.key, immutableKey(suite, text('hello')));
    assert.equal(checkRecord(suite, record, record.key, NOW, 48 * HOUR), null);
    assert.equal(checkRecord(suite, { ...record, value: text('HELLO') }, record.key, NOW, 48 * HOUR), 'key');
  });

  it('namespaces keys so a service name and a raw value never share a key', () => {
    const bytes = text('web');
    assert.notDeepEqual(namespacedKey(suite, KEY_NAMESPACE.service, bytes), immutableKey(suite, bytes));
  });

  it('verifies signatures over every field', () => {
    const author = generateIdentity(suite);
    const record = createMutableRecord(suite, author, { value: text('v1'), seq: 1, expiresAt: NOW + HOUR, salt: text('s') });
    assert.equal(checkRecord(suite, record, record.key, NOW, 48 * HOUR), null);
    const tampered: SignedRecord[] = [
      { ...record, value: text('v2') },
      { ...record, seq: 2 },
      { ...record, expiresAt: NOW + 2 * HOUR },
      { ...record, salt: text('t') },
      { ...record, withdrawn: true, value: new Uint8Array(0) },
      { ...record, signature: new Uint8Array(64) },
      { ...record, author: generateIdentity(suite).publicKey },
    ];
    for (const forged of tampered) assert.equal(checkRecord(suite, forged, record.key, NOW, 48 * HOUR), 'signature');
  });

  it('rejects expired records, expiries too far ahead, oversize values and garbage without throwing', () => {
    const author = generateIdentity(suite);
    const key = suite.randomBytes(32);
    assert.equal(checkRecord(suite, signRecord(suite, author, { key, seq: 0, expiresAt: NOW - 1, value: text('x') }), key, NOW, HOUR), 'expired');
    assert.equal(checkRecord(suite, signRecord(suite, author, { key, seq: 0, expiresAt: NOW + 2 * HOUR, value: text('x') }), key, NOW, HOUR), 'ttl');
    assert.throws(() => createImmutableRecord(suite, new Uint8Array(1001), NOW + HOUR), { code: 'ERR_INVALID_ARGUMENT' });
    for (const garbage of [null, 42, {}, { key }, { key, author: 'x', seq: -1 }]) {
      assert.equal(checkRecord(suite, garbage as unknown as SignedRecord, key, NOW, HOUR), 'malformed');
    }
  });
});

describe('RecordStore', () => {
  const author = generateIdentity(suite);
  const key = suite.randomBytes(32);
  const rec = (seq: number, value = `v${seq}`, extra: { withdrawn?: boolean; expiresAt?: number; signer?: typeof author } = {}) =>
    signRecord(suite, extra.signer ?? author, {
      key,
      seq,
      expiresAt: extra.expiresAt ?? NOW + HOUR,
      value: extra.withdrawn ? new Uint8Array(0) : text(value),
      ...(extra.withdrawn ? { withdrawn: true } : {}),
    });

  it('replaces an author record with a newer seq and refuses an older one or a forgery', () => {
    const { store } = newStore();
    assert.deepEqual(store.put(key, rec(1), 'src'), { ok: true });
    assert.deepEqual(store.put(key, rec(2), 'src'), { ok: true });
    assert.deepEqual(store.put(key, rec(1), 'src'), { ok: false, reason: 'stale' });
    assert.deepEqual(store.put(key, { ...rec(3), value: text('forged') }, 'src'), { ok: false, reason: 'invalid' });
    const held = store.get(key);
    assert.equal(held.length, 1);
    assert.equal(held[0].seq, 2);
    assert.equal(store.size, 1);
  });

  it('keeps a set per key, one record per author', () => {
    const { store } = newStore();
    const authors = Array.from({ length: 5 }, () => generateIdentity(suite));
    for (const signer of authors) assert.ok(store.put(key, rec(1, 'p', { signer }), 'src').ok);
    assert.equal(store.get(key).length, 5);
  });

  it('serves a withdrawal until it expires, so a replay of the live record cannot resurrect it', () => {
    const { store, setNow } = newStore();
    const live = rec(5);
    assert.ok(store.put(key, live, 'a').ok);
    assert.ok(store.put(key, rec(6, '', { withdrawn: true }), 'a').ok);
    assert.deepEqual(store.put(key, live, 'b'), { ok: false, reason: 'stale' });
    const held = store.get(key);
    assert.equal(held.length, 1);
    assert.equal(held[0].withdrawn, true);
    setNow(NOW + HOUR + 1);
    assert.equal(store.get(key).length, 0);
    assert.equal(store.sweep(), 1);
    assert.equal(store.size, 0);
  });

  it('lets an author extend a record by re-signing the same seq with a later expiry', () => {
    const { store } = newStore();
    assert.ok(store.put(key, rec(3), 'a').ok);
    assert.ok(store.put(key, rec(3, 'v3', { expiresAt: NOW + 2 * HOUR }), 'a').ok);
    assert.deepEqual(store.put(key, rec(3, 'v3'), 'a'), { ok: false, reason: 'stale' });
    assert.equal(store.get(key)[0].expiresAt, NOW + 2 * HOUR);
  });

  it('bounds records per source, per key and in total', () => {
    const { store } = newStore({ maxPerSource: 3, maxPerKey: 4, maxRecords: 6 });
    const signers = Array.from({ length: 8 }, () => generateIdentity(suite));
    const results = signers.slice(0, 4).map((signer) => store.put(key, rec(1, 'x', { signer }), 'greedy').ok);
    assert.deepEqual(results, [true, true, true, false]); // per source
    assert.ok(store.put(key, rec(1, 'x', { signer: signers[4] }), 'other').ok);
    // The key is full (greedy 3, other 1): a newcomer evicts one of the largest source's records...
    assert.ok(store.put(key, rec(1, 'x', { signer: signers[5] }), 'third').ok);
    assert.equal(store.sourceCountUnder(key, 'greedy'), 2);
    assert.ok(store.put(key, rec(1, 'x', { signer: signers[6] }), 'fourth').ok);
    // ...until no source holds two more than the newcomer's: then the key refuses.
    assert.deepEqual(store.put(key, rec(1, 'x', { signer: signers[7] }), 'fifth'), { ok: false, reason: 'limit' }); // per key
    assert.equal(store.get(key).length, 4);
    const other = suite.randomBytes(32);
    const recOther = (signer: typeof author) => signRecord(suite, signer, { key: other, seq: 1, expiresAt: NOW + HOUR, value: text('y') });
    assert.ok(store.put(other, recOther(signers[5]), 'third').ok);
    assert.ok(store.put(other, recOther(signers[6]), 'fourth').ok);
    // The store is full: a newcomer evicts the oldest young record of a source holding two more young records than its own (store-tenure.ts)...
    assert.ok(store.put(other, recOther(signers[7]), 'fifth').ok);
    // ...until none does: then the store refuses.
    assert.deepEqual(store.put(other, recOther(signers[0]), 'fifth'), { ok: false, reason: 'limit' }); // total
    assert.equal(store.size, 6);
    assert.equal(store.sourceCount('greedy'), 1);
  });

  it('always admits the author a mutable key names, even into a full set', () => {
    const owner = generateIdentity(suite);
    const bound = createMutableRecord(suite, owner, { value: text('mine'), seq: 1, expiresAt: NOW + HOUR });
    const { store } = newStore({ maxPerKey: 2 });
    for (const signer of [generateIdentity(suite), generateIdentity(suite)]) {
      assert.ok(store.put(bound.key, signRecord(suite, signer, { key: bound.key, seq: 1, expiresAt: NOW + HOUR, value: text('junk') }), 'spam').ok);
    }
    assert.ok(store.put(bound.key, bound, 'owner').ok);
    assert.ok(store.get(bound.key).some((r) => r.value.length === 4));
  });

  it('copies what it stores, so a reused receive buffer cannot change a held record', () => {
    const { store } = newStore();
    const record = rec(1, 'abc');
    assert.ok(store.put(key, record, 'a').ok);
    record.value[0] = 0;
    assert.equal(new TextDecoder().decode(store.get(key)[0].value), 'abc');
  });
});
