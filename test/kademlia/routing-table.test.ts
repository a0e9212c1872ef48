import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nodeCryptoSuite } from '../../src/crypto/index.js';
import { Positions, commonPrefixLength, compareDistance, randomPositionInBucket } from '../../src/kademlia/keyspace.js';
import { RoutingTable } from '../../src/kademlia/routing-table.js';
import type { Contact } from '../../src/kademlia/types.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';

const suite = nodeCryptoSuite;
const positions = new Positions(suite);

function contact(host: string, port = 4000): Contact {
  return { id: suite.randomBytes(32), address: { host, port } };
}

/** A contact whose position falls in bucket `index` of a table centred on `self`. */
function contactInBucket(self: Uint8Array, index: number, host: string): Contact {
  for (;;) {
    const c = contact(host);
    if (commonPrefixLength(self, positions.of(c.id)) === index) return c;
  }
}

/** A table with plain k-sized buckets everywhere (wide first buckets have their own test). */
function newTable(options: { k?: number; wideBuckets?: number[] } = {}) {
  const clock = new VirtualClock();
  const self = suite.randomBytes(32);
  return { clock, self, table: new RoutingTable({ self, clock, k: options.k ?? 20, wideBuckets: options.wideBuckets ?? [] }) };
}

let hostCounter = 0;
const publicHost = () => `11.${(hostCounter >> 8) & 255}.${hostCounter++ & 255}.1`;

describe('keyspace', () => {
  it('orders by XOR distance and finds common prefixes', () => {
    const target = new Uint8Array(32);
    const a = new Uint8Array(32);
    const b = new Uint8Array(32);
    a[31] = 1;
    b[0] = 0x80;
    assert.ok(compareDistance(a, b, target) < 0);
    assert.ok(compareDistance(b, a, target) > 0);
    assert.equal(compareDistance(a, a, target), 0);
    assert.equal(commonPrefixLength(target, b), 0);
    assert.equal(commonPrefixLength(target, a), 255);
    assert.equal(commonPrefixLength(target, target), 256);
  });

  it('makes random targets inside a chosen bucket', () => {
    const base = suite.randomBytes(32);
    for (const cpl of [0, 1, 7, 8, 9, 100, 255]) {
      for (let i = 0; i < 20; i++) assert.equal(commonPrefixLength(base, randomPositionInBucket(base, cpl, suite.randomBytes(32))), cpl);
    }
  });
});

describe('RoutingTable', () => {
  it('adds authenticated contacts, bounded at k per bucket, with the rest in the replacement cache', () => {
    const { table, self, clock } = newTable({ k: 4 });
    const inBucket0 = Array.from({ length: 7 }, () => contactInBucket(self, 0, publicHost()));
    const outcomes = inBucket0.map((c, i) => {
      if (i === 4) clock.advance(60_000); // the oldest entry has been silent long enough to be worth a ping
      return table.observe(c, positions.of(c.id)).kind;
    });
    assert.deepEqual(outcomes.slice(0, 4), ['added', 'added', 'added', 'added']);
    assert.equal(outcomes[4], 'ping'); // full: the table asks to check its oldest entry
    assert.deepEqual(outcomes.slice(5), ['replacement', 'replacement']); // one ping at a time
    assert.equal(table.bucketEntries(0).length, 4);
    assert.equal(table.bucketReplacements(0).length, 3);
    assert.equal(table.size, 4);
  });

  it('gives the first buckets (the widest ranges of the key space) room for more contacts', () => {
    const { table, self } = newTable({ k: 3, wideBuckets: [4, 2] });
    for (const index of [0, 1, 2]) {
      for (let i = 0; i < 20; i++) {
        const c = contactInBucket(self, index, publicHost());
        table.observe(c, positions.of(c.id));
      }
    }
    assert.deepEqual(
      [0, 1, 2].map((i) => table.bucketEntries(i).length),
      [12, 6, 3],
    );
    assert.equal(table.size, 21);
    // Closest-first answers still come out in XOR order across the wide bucket.
    const target = randomPositionInBucket(self, 0, suite.randomBytes(32));
    const all = [...table.entries()].sort((x, y) => compareDistance(x.position, y.position, target));
    assert.deepEqual(
      table.closest(target, 5).map((e) => e.contact.id),
      all.slice(0, 5).map((e) => e.contact.id),
    );
  });

  it('keeps separate buckets per distance, so near buckets fill independently of far ones (the split)', () => {
    const { table, self } = newTable({ k: 3 });
    for (const index of [0, 1, 2, 3]) {
      for (let i = 0; i < 5; i++) {
        const c = contactInBucket(self, index, publicHost());
        table.observe(c, positions.of(c.id));
      }
    }
    for (const index of [0, 1, 2, 3]) assert.equal(table.bucketEntries(index).length, 3);
    assert.equal(table.size, 12);
  });

  it('does not ping an oldest entry that was seen recently: the newcomer waits in the cache', () => {
    const { table, self } = newTable({ k: 1 });
    const [a, b] = [contactInBucket(self, 0, publicHost()), contactInBucket(self, 0, publicHost())];
    table.observe(a, positions.of(a.id));
    assert.equal(table.observe(b, positions.of(b.id)).kind, 'replacement');
  });

  it('evicts the least-recently-seen contact only after it fails a ping, and promotes the freshest replacement', () => {
    const { table, self, clock } = newTable({ k: 2 });
    const [a, b, c, d] = Array.from({ length: 4 }, () => contactInBucket(self, 0, publicHost()));
    table.observe(a, positions.of(a.id));
    table.observe(b, positions.of(b.id));
    clock.advance(60_000);
    const outcome = table.observe(c, positions.of(c.id));
    assert.equal(outcome.kind, 'ping');
    if (outcome.kind !== 'ping') return;
    assert.deepEqual(outcome.stale.contact.id, a.id); // least recently seen
    // Alive: a stays (now most recent), c waits in the cache.
    table.pingResult(outcome.stale, true);
    assert.deepEqual(
      table.bucketEntries(0).map((e) => e.contact.id),
      [b.id, a.id],
    );
    // Next newcomer: b is now the oldest; it fails its ping and d (freshest replacement) takes its place.
    clock.advance(60_000);
    const second = table.observe(d, positions.of(d.id));
    assert.equal(second.kind, 'ping');
    if (second.kind !== 'ping') return;
    assert.deepEqual(second.stale.contact.id, b.id);
    table.pingResult(second.stale, false);
    assert.deepEqual(
      table.bucketEntries(0).map((e) => e.contact.id),
      [a.id, d.id],
    );
    assert.deepEqual(
      table.bucketReplacements(0).map((e) => e.contact.id),
      [c.id],
    );
  });

  it('moves a re-seen contact to the most-recent end', () => {
    const { table, self } = newTable();
    const [a, b] = [contactInBucket(self, 0, publicHost()), contactInBucket(self, 0, publicHost())];
    table.observe(a, positions.of(a.id));
    table.observe(b, positions.of(b.id));
    assert.equal(table.observe(a, positions.of(a.id)).kind, 'updated');
    assert.deepEqual(
      table.bucketEntries(0).map((e) => e.contact.id),
      [b.id, a.id],
    );
  });

  it('admits at most 2 contacts per IPv4 /24 and IPv6 /48 per bucket; loopback and LAN are exempt', () => {
    const { table, self } = newTable();
    const v4 = ['203.0.113.5', '203.0.113.6', '203.0.113.7'].map((h) => contactInBucket(self, 0, h));
    assert.deepEqual(
      v4.map((c) => table.observe(c, positions.of(c.id)).kind),
      ['added', 'added', 'rejected'],
    );
    const v6 = ['2001:db8:1::1', '2001:db8:1:ffff::2', '2001:db8:1:2::3'].map((h) => contactInBucket(self, 0, h));
    assert.deepEqual(
      v6.map((c) => table.observe(c, positions.of(c.id)).kind),
      ['added', 'added', 'rejected'],
    );
    const other = contactInBucket(self, 0, '203.0.114.5');
    assert.equal(table.observe(other, positions.of(other.id)).kind, 'added');
    const loopback = Array.from({ length: 5 }, () => contactInBucket(self, 0, '127.0.0.1')).map((c, i) => ({
      ...c,
      address: { host: '127.0.0.1', port: 5000 + i },
    }));
    assert.ok(loopback.every((c) => table.observe(c, positions.of(c.id)).kind === 'added'));
    const lan = Array.from({ length: 3 }, (_, i) => contactInBucket(self, 1, `192.168.1.${i + 2}`));
    assert.ok(lan.every((c) => table.observe(c, positions.of(c.id)).kind === 'added'));
  });

  it('drops a contact after repeated request failures and promotes a replacement', () => {
    const { table, self } = newTable({ k: 1 });
    const [a, b] = [contactInBucket(self, 0, publicHost()), contactInBucket(self, 0, publicHost())];
    table.observe(a, positions.of(a.id));
    table.observe(b, positions.of(b.id)); // cached
    table.recordFailure(a.id, positions.of(a.id));
    assert.ok(table.has(a.id, positions.of(a.id)));
    table.recordFailure(a.id, positions.of(a.id));
    assert.ok(!table.has(a.id, positions.of(a.id)));
    assert.ok(table.has(b.id, positions.of(b.id)));
  });

  it('returns the closest contacts in XOR order across buckets', () => {
    const { table } = newTable();
    const all = Array.from({ length: 300 }, () => contact(publicHost()));
    for (const c of all) table.observe(c, positions.of(c.id));
    const inTable = [...table.entries()];
    for (let trial = 0; trial < 20; trial++) {
      const target = suite.randomBytes(32);
      const expected = [...inTable].sort((x, y) => compareDistance(x.position, y.position, target)).slice(0, 20);
      assert.deepEqual(
        table.closest(target, 20).map((e) => e.contact.id),
        expected.map((e) => e.contact.id),
      );
    }
  });

  it('orders ties on the first 32 distance bits by the full distance, and leaves out the excluded ID', () => {
    const { table, self } = newTable({ k: 64 });
    const prefix = suite.randomBytes(5);
    prefix[0] = self[0] ^ 0x80; // all in bucket 0
    const entries = Array.from({ length: 40 }, () => {
      const position = suite.randomBytes(32);
      position.set(prefix.subarray(0, i32(position)), 0);
      return { contact: contact(publicHost()), position };
    });
    for (const e of entries) table.observe(e.contact, e.position);
    const excluded = entries[3].contact.id;
    for (let trial = 0; trial < 10; trial++) {
      const target = suite.randomBytes(32);
      const expected = entries
        .filter((e) => e.contact.id !== excluded)
        .sort((x, y) => compareDistance(x.position, y.position, target))
        .slice(0, 20)
        .map((e) => e.contact.id);
      assert.deepEqual(
        table.closestContacts(target, 20, excluded).map((c) => c.id),
        expected,
      );
    }
    /** Half share 5 bytes (ties on the 32-bit sort key), half share 1 byte. */
    function i32(position: Uint8Array): number {
      return position[31] & 1 ? 5 : 1;
    }
  });

  it('lists stale buckets for refresh and forgets them once touched', () => {
    const { table, self, clock } = newTable();
    for (let i = 0; i < 40; i++) {
      const c = contact(publicHost());
      table.observe(c, positions.of(c.id));
    }
    clock.advance(1000);
    const stale = table.staleBuckets(500);
    assert.ok(stale.includes(0));
    table.touch(randomPositionInBucket(self, 0, suite.randomBytes(32)));
    assert.ok(!table.staleBuckets(500).includes(0));
  });

  it('neighbourhoodStart: the deepest buckets that together hold fewer than k contacts', () => {
    const { table, self } = newTable();
    const perBucket = [5, 4, 3, 2, 1]; // buckets 0..4
    perBucket.forEach((count, index) => {
      for (let i = 0; i < count; i++) {
        const c = contactInBucket(self, index, publicHost());
        table.observe(c, positions.of(c.id));
      }
    });
    assert.equal(table.neighbourhoodStart(3), 4); // bucket 4 holds 1; with 3 it is 3 >= 3
    assert.equal(table.neighbourhoodStart(4), 3);
    assert.equal(table.neighbourhoodStart(7), 2); // 1 + 2 + 3 = 6 < 7, + 4 = 10
    assert.equal(table.neighbourhoodStart(100), 0);
  });

  it('counts a bucket whose contact was heard from as fresh (no refresh lookup where traffic flows)', () => {
    const { table, self, clock } = newTable();
    const inZero = contactInBucket(self, 0, publicHost());
    const inOne = contactInBucket(self, 1, publicHost());
    table.observe(inZero, positions.of(inZero.id));
    table.observe(inOne, positions.of(inOne.id));
    clock.advance(1000);
    assert.deepEqual(table.staleBuckets(500).slice(0, 2), [0, 1]);
    table.observe(inOne, positions.of(inOne.id)); // a message from it
    const stale = table.staleBuckets(500);
    assert.ok(stale.includes(0) && !stale.includes(1), `stale: ${stale.join(', ')}`);
    clock.advance(600);
    assert.ok(table.staleBuckets(500).includes(1), 'fresh only for the interval');
  });
});

describe('closestEncoded', () => {
  it('encodes each entry once, in closestContacts order, and again after its address changes', () => {
    const { table, self } = newTable();
    const added: Contact[] = [];
    for (let i = 0; i < 30; i++) {
      const c = contactInBucket(self, i % 6, publicHost());
      table.observe(c, positions.of(c.id));
      added.push(c);
    }
    let calls = 0;
    const encode = (id: Uint8Array, host: string, port: number) => {
      calls++;
      return `${Buffer.from(id).toString('hex')}@${host}:${port}`;
    };
    const target = suite.randomBytes(32);
    const asText = (c: Contact) => `${Buffer.from(c.id).toString('hex')}@${c.address.host}:${c.address.port}`;
    const first = table.closestEncoded(target, 20, undefined, encode);
    assert.deepEqual(first, table.closestContacts(target, 20).map(asText));
    const encodedOnce = calls;
    assert.equal(table.closestEncoded(target, 20, undefined, encode).length, 20);
    assert.equal(calls, encodedOnce, 'cached: no second encoding');
    // The nearest contact moves: only it is encoded again, with its new address.
    const moved = table.closestContacts(target, 1)[0];
    table.observe({ id: moved.id, address: { host: moved.address.host, port: 5999 } }, positions.of(moved.id));
    const after = table.closestEncoded(target, 20, undefined, encode);
    assert.equal(calls, encodedOnce + 1);
    assert.ok(after.includes(asText({ id: moved.id, address: { host: moved.address.host, port: 5999 } })));
    assert.ok(!after.includes(asText(moved)));
    // Excluding the requester, and skipping what the encoder rejects.
    const excluded = table.closestEncoded(target, 20, moved.id, encode);
    assert.ok(!excluded.some((text) => text.startsWith(Buffer.from(moved.id).toString('hex'))));
    const none = table.closestEncoded(target, 20, undefined, () => null);
    assert.deepEqual(none, []);
    // A different encoder invalidates the cache rather than returning the other's results.
    assert.deepEqual(
      table.closestEncoded(target, 3, undefined, (id) => id.length),
      [32, 32, 32],
    );
  });
});
