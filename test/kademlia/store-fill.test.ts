import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateIdentity, nodeCryptoSuite } from '../../src/crypto/index.js';
import type { KeyPair } from '../../src/crypto/types.js';
import { signRecord } from '../../src/kademlia/record.js';
import { RecordStore } from '../../src/kademlia/storage.js';
import { HEAVIEST_REUSE, TenureBook } from '../../src/kademlia/store-tenure.js';
import { bytesToHex } from '../../src/util/bytes.js';

const suite = nodeCryptoSuite;
const NOW = 1_700_000_000_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const value = new TextEncoder().encode('203.0.113.7:4100');

function newStore(options: Partial<ConstructorParameters<typeof RecordStore>[0]> = {}) {
  let now = NOW;
  const store = new RecordStore({ suite, wallClock: () => now, ...options });
  return { store, advance: (ms: number) => (now += ms), now: () => now };
}

const hex = (pair: KeyPair) => bytesToHex(pair.publicKey);
const record = (signer: KeyPair, key: Uint8Array, seq: number, expiresAt: number) => signRecord(suite, signer, { key, seq, expiresAt, value });

describe('a store-wide fill cannot push out established authors', () => {
  it('20,000 records from many keys and fresh identities leave every established record in place', () => {
    const { store, advance, now } = newStore();
    // 300 providers of 30 services, each storing its own record from its own address, republished for 12 minutes.
    const services = Array.from({ length: 30 }, () => suite.randomBytes(32));
    const providers = Array.from({ length: 300 }, (_, i) => ({ pair: generateIdentity(suite), key: services[i % 30], net: `198.51.${i % 250}` }));
    for (let round = 1; round <= 13; round++) {
      for (const p of providers) assert.ok(store.put(p.key, record(p.pair, p.key, round, now() + 2 * MINUTE), hex(p.pair), p.net).ok);
      if (round < 13) advance(MINUTE);
    }
    assert.ok(providers.every((p) => store.isEstablished(hex(p.pair))));

    // The fill: 20,000 records under 20,000 keys, 100 fresh authors, from 25 sources spread over 5 /24s.
    const authors = Array.from({ length: 100 }, () => generateIdentity(suite));
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      const key = suite.randomBytes(32);
      const result = store.put(key, record(authors[i % 100], key, 1, now() + 24 * HOUR), `flood-${i % 25}`, `203.0.${i % 5}`);
      if (result.ok) accepted++;
      else refused++;
    }
    assert.equal(store.size, 20_000, 'the store is full');
    assert.ok(accepted >= 20_000 - providers.length, `${accepted} flood records accepted`);
    // Every established provider's record is still there, at its latest seq.
    for (const p of providers) {
      const held = store.get(p.key).find((r) => bytesToHex(r.author) === hex(p.pair));
      assert.ok(held !== undefined && held.seq === 13, `provider ${hex(p.pair).slice(0, 8)} kept its record`);
    }
    // Once full, the flood only churns its own records (each source is the heaviest in turn) or is refused.
    assert.equal(accepted + refused, 20_000);

    // An established author still gets a new record in (it evicts a flood record)...
    const veteran = providers[0];
    const fresh = suite.randomBytes(32);
    assert.deepEqual(store.put(fresh, record(veteran.pair, fresh, 1, now() + HOUR), hex(veteran.pair), veteran.net), { ok: true });
    // ...and so does a newcomer storing its own one record: the bulk sources hold far more than it.
    const newcomer = generateIdentity(suite);
    assert.deepEqual(store.put(services[0], record(newcomer, services[0], 1, now() + HOUR), hex(newcomer), '192.0.2'), { ok: true });
    assert.equal(store.size, 20_000);
    // The providers' republishing keeps working in the full store.
    advance(MINUTE);
    for (const p of providers) assert.ok(store.put(p.key, record(p.pair, p.key, 14, now() + 2 * MINUTE), hex(p.pair), p.net).ok);
  });

  it('quotas: one source network holds at most a quarter of the store, one author at most maxPerAuthor', () => {
    const { store, now } = newStore({ maxRecords: 400, maxPerAuthor: 30 });
    const authors = Array.from({ length: 40 }, () => generateIdentity(suite));
    let accepted = 0;
    for (let i = 0; i < 400; i++) {
      const key = suite.randomBytes(32);
      if (store.put(key, record(authors[i % 40], key, 1, now() + HOUR), `host-${i % 10}`, '203.0.113').ok) accepted++;
    }
    assert.equal(accepted, 100, 'a quarter of 400 from one /24');
    const one = generateIdentity(suite);
    accepted = 0;
    for (let i = 0; i < 50; i++) {
      const key = suite.randomBytes(32);
      if (store.put(key, record(one, key, 1, now() + HOUR), hex(one), '198.51.100').ok) accepted++;
    }
    assert.equal(accepted, 30, 'maxPerAuthor records of one author');
    // Loopback and LAN sources have no network (undefined): only the other bounds apply to them.
    const key = suite.randomBytes(32);
    assert.ok(store.put(key, record(generateIdentity(suite), key, 1, now() + HOUR), 'local').ok);
  });

  it('young records become safe once their author has stayed establishedAfterMs', () => {
    const { store, advance, now } = newStore({ maxRecords: 50, establishedAfterMs: 5 * MINUTE });
    const early = Array.from({ length: 10 }, () => generateIdentity(suite));
    const keys = early.map(() => suite.randomBytes(32));
    early.forEach((pair, i) => assert.ok(store.put(keys[i], record(pair, keys[i], 1, now() + HOUR), 'early-source').ok));
    // Tenure counts from the first record: not yet at 4 minutes, established at 5...
    advance(4 * MINUTE);
    assert.ok(!store.isEstablished(hex(early[0])));
    advance(MINUTE);
    assert.ok(early.every((pair) => store.isEstablished(hex(pair))));
    // ...after, a fill of 500 from three sources churns only itself.
    const flood = Array.from({ length: 20 }, () => generateIdentity(suite));
    for (let i = 0; i < 500; i++) {
      const key = suite.randomBytes(32);
      store.put(key, record(flood[i % 20], key, 1, now() + HOUR), `flood-${i % 3}`);
    }
    assert.equal(store.size, 50);
    early.forEach((pair, i) => assert.equal(store.get(keys[i]).length, 1, `early record ${i} kept`));
  });
});

describe('TenureBook', () => {
  type Entry = { author: string; source: string; net: string | undefined };
  it('evicts the oldest young record of the heaviest source, with a margin of two over the newcomer', () => {
    let now = 0;
    const book = new TenureBook<Entry>({ establishedAfterMs: 1000, maxPerAuthor: 100, maxPerNetwork: 100 }, () => now);
    const bulk = Array.from({ length: 5 }, (_, i) => ({ author: `a${i}`, source: 'bulk', net: 'n1' }));
    for (const entry of bulk) book.added(entry);
    const small = { author: 'b', source: 'small', net: 'n2' };
    book.added(small);
    assert.equal(book.victim('newcomer', 'c'), bulk[0], 'the oldest of the heaviest source');
    book.removed(bulk[0]);
    // 'small' (1 young) may evict from bulk (4 >= 1 + 2); bulk's newcomer churns its own records.
    assert.equal(book.victim('small', 'd'), bulk[1]);
    assert.equal(book.victim('bulk', 'e'), bulk[1]);
    // Established records leave the pool: nothing young is left to evict.
    now = 2000;
    assert.equal(book.victim('newcomer', 'f'), undefined);
    assert.equal(book.netRecords('n1'), 4);
    assert.equal(book.overQuota('a1', 'n1'), undefined);
  });

  it('a reused heaviest-source answer is rescanned before a refusal', () => {
    const book = new TenureBook<Entry>({ establishedAfterMs: 1000, maxPerAuthor: 100, maxPerNetwork: 1000 }, () => 0);
    const first = Array.from({ length: 3 }, (_, i) => ({ author: `x${i}`, source: 'first', net: undefined }));
    for (const entry of first) book.added(entry);
    assert.equal(book.victim('n', 'n'), first[0]);
    // 'second' grows past 'first' while the cached answer is reused.
    const second = Array.from({ length: 10 }, (_, i) => ({ author: `y${i}`, source: 'second', net: undefined }));
    for (const entry of second) book.added(entry);
    book.removed(first[0]);
    book.removed(first[1]);
    // 'first' has 1 young record now: below the margin, so the book rescans and finds 'second'.
    assert.equal(book.victim('n', 'n'), second[0]);
    assert.ok(HEAVIEST_REUSE > 1);
  });
});
