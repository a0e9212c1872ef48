import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateIdentity, nodeCryptoSuite } from '../../src/crypto/index.js';
import type { KeyPair } from '../../src/crypto/types.js';
import { createMutableRecord, signRecord } from '../../src/kademlia/record.js';
import { MAX_OPEN_SET_TTL_MS, RecordStore } from '../../src/kademlia/storage.js';
import { bytesToHex } from '../../src/util/bytes.js';

const suite = nodeCryptoSuite;
const NOW = 1_700_000_000_000;
const HOUR = 3600_000;
const text = (s: string) => new TextEncoder().encode(s);
const key = suite.randomBytes(32);
const provider = (signer: KeyPair, seq = 1, expiresAt = NOW + 2 * HOUR) => signRecord(suite, signer, { key, seq, expiresAt, value: text('addr') });

function newStore() {
  let now = NOW;
  const store = new RecordStore({ suite, wallClock: () => now });
  return { store, setNow: (t: number) => (now = t) };
}

describe('RecordStore fairness under one key', () => {
  it('a source that filled a service key with 1,000 sybil records cannot lock out an honest provider', () => {
    const { store } = newStore();
    const sybils = Array.from({ length: 1001 }, () => generateIdentity(suite));
    let accepted = 0;
    for (const sybil of sybils.slice(0, 1000)) if (store.put(key, provider(sybil, 1, NOW + 24 * HOUR), 'attacker').ok) accepted++;
    assert.equal(accepted, 1000); // room is free for anybody: a holder refresh looks the same
    // Honest providers, each storing its own record from its own node, still get in...
    const honest = Array.from({ length: 5 }, () => generateIdentity(suite));
    for (const p of honest) assert.deepEqual(store.put(key, provider(p), bytesToHex(p.publicKey)), { ok: true });
    assert.equal(store.sourceCountUnder(key, 'attacker'), 995);
    // ...and the attacker cannot push them out again: it is the largest source, so its newcomers are refused.
    assert.deepEqual(store.put(key, provider(sybils[1000]), 'attacker'), { ok: false, reason: 'limit' });
    // A second attacker source evicts the largest source's records, never the honest ones.
    for (let i = 0; i < 3; i++) assert.ok(store.put(key, provider(generateIdentity(suite)), 'attacker-2').ok);
    const authors = new Set(store.get(key).map((r) => bytesToHex(r.author)));
    for (const p of honest) assert.ok(authors.has(bytesToHex(p.publicKey)));
    assert.equal(store.get(key).length, 1000);
  });

  it("a holder's refresh of many providers' records lands whole at a new holder, and evicts a squatter's first", () => {
    const { store } = newStore();
    const providers = Array.from({ length: 300 }, () => generateIdentity(suite));
    for (const p of providers) assert.ok(store.put(key, provider(p), 'holder').ok);
    assert.equal(store.get(key).length, 300);
    // A squatted key: the refresh displaces the squatter's records, not the other way round.
    const squatted = newStore().store;
    for (let i = 0; i < 1000; i++) squatted.put(key, provider(generateIdentity(suite)), 'attacker');
    let landed = 0;
    for (const p of providers) if (squatted.put(key, provider(p), 'holder').ok) landed++;
    assert.equal(landed, 300);
    assert.equal(squatted.sourceCountUnder(key, 'attacker'), 700);
  });

  it('charges a record to its author once the author stores it itself; nobody else can take it over', () => {
    const { store } = newStore();
    const p = generateIdentity(suite);
    const own = bytesToHex(p.publicKey);
    const first = provider(p, 1);
    assert.ok(store.put(key, first, 'holder').ok);
    assert.ok(store.put(key, first, 'someone-else').ok); // identical re-store: ok, charge unchanged
    assert.equal(store.sourceCountUnder(key, 'holder'), 1);
    assert.ok(store.put(key, first, own).ok);
    assert.equal(store.sourceCountUnder(key, 'holder'), 0);
    assert.equal(store.sourceCountUnder(key, own), 1);
    assert.ok(store.put(key, provider(p, 2), 'replayer').ok); // a newer record relayed by another node
    assert.equal(store.sourceCountUnder(key, own), 1);
    assert.equal(store.sourceCount('replayer'), 0);
  });

  it('caps the expiry of open-set records at 25 h, while mutable values keep 48 h', () => {
    const { store } = newStore();
    const p = generateIdentity(suite);
    assert.equal(MAX_OPEN_SET_TTL_MS, 25 * HOUR);
    assert.deepEqual(store.put(key, provider(p, 1, NOW + 48 * HOUR - 1000), 'attacker'), { ok: false, reason: 'invalid' });
    assert.deepEqual(store.put(key, provider(p, 1, NOW + 24 * HOUR), 'p'), { ok: true });
    const mutable = createMutableRecord(suite, p, { value: text('v'), seq: 1, expiresAt: NOW + 47 * HOUR });
    assert.deepEqual(store.put(mutable.key, mutable, 'p'), { ok: true });
    assert.equal(store.maxTtlFor(mutable), 48 * HOUR);
    assert.equal(store.maxTtlFor(provider(p)), 25 * HOUR);
  });
});
