/**
 * Large record sets over the in-memory network with a per-answer byte limit: the lookup
 * carries page 0 only, the rest is paged after it. 1,000 signed records under one key
 * (as 1,000 discovery providers would have) are all read back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateIdentity } from '../../src/crypto/index.js';
import { signRecord } from '../../src/kademlia/record.js';
import { compareDistance } from '../../src/kademlia/keyspace.js';
import { KadSimulation } from '../../src/kademlia/simulation.js';
import type { SignedRecord } from '../../src/kademlia/types.js';
import { verifiedCacheStats } from '../../src/kademlia/verified-cache.js';

const ANSWER_BYTES = 1000;

/** `count` records under one key, each by its own author, with a 150-byte value. */
function manyRecords(sim: KadSimulation, key: Uint8Array, count: number): SignedRecord[] {
  const now = Math.floor(sim.wallClock());
  return Array.from({ length: count }, (_, i) =>
    signRecord(sim.suite, generateIdentity(sim.suite), { key, seq: 1, expiresAt: now + 600_000, value: new Uint8Array(150).fill(i & 255) }),
  );
}

describe('paged FIND_VALUE over the in-memory network', () => {
  it('1,000 records under one key are all read, with every answer within the byte limit', async () => {
    const sim = new KadSimulation({ seed: 3, jitterMs: 10, answerBytes: ANSWER_BYTES });
    for (let i = 0; i < 200; i++) sim.addNode();
    await sim.populateTables();
    const key = sim.randomBytes(32);
    const records = manyRecords(sim, key, 1000);
    const holders = [...sim.nodes].sort((a, b) => compareDistance(a.dht.position, b.dht.position, key)).slice(0, 20);
    for (const holder of holders) for (const record of records) assert.ok(holder.dht.store.put(key, record, holder.dht.idHex).ok);

    const reader = sim.nodes.find((n) => !holders.includes(n))!;
    const requestsBefore = sim.hub.requests;
    const lookupsBefore = reader.dht.stats.queries;
    const verifiesBefore = verifiedCacheStats.verifications;
    const found = await sim.until(reader.dht.getRecords(key));
    assert.equal(found.length, 1000);
    assert.deepEqual(new Set(found.map((r) => Buffer.from(r.author).toString('hex'))), new Set(records.map((r) => Buffer.from(r.author).toString('hex'))));
    // Pages went out on top of the lookup's queries: ~7 records of ~290 bytes fit a page, from up to 3 holders.
    const pages = sim.hub.requests - requestsBefore - (reader.dht.stats.queries - lookupsBefore);
    assert.ok(pages >= 1000 / 7 - 5, `only ${pages} page requests`);
    assert.ok(pages <= 3 * (1000 / 3 + 10), `${pages} page requests`);
    // The holders verified every record on STORE: the reader's checks come from the cache.
    assert.equal(verifiedCacheStats.verifications - verifiesBefore, 0);
    sim.stop();
  });

  it('a 1-node holder with 1,000 records and 5% loss still yields them all (lost pages are retried)', async () => {
    const sim = new KadSimulation({ seed: 4, answerBytes: ANSWER_BYTES, loss: 0.05 });
    await sim.grow(2);
    const [holder, reader] = sim.nodes as [(typeof sim.nodes)[0], (typeof sim.nodes)[0]];
    const key = sim.randomBytes(32);
    for (const record of manyRecords(sim, key, 1000)) holder.dht.store.put(key, record, holder.dht.idHex);
    let found: SignedRecord[] = [];
    // A lost page-0 answer fails the lookup's one query; a read repeats as a caller would.
    for (let attempt = 0; attempt < 5 && found.length < 1000; attempt++) found = await sim.until(reader.dht.getRecords(key));
    assert.equal(found.length, 1000);
    sim.stop();
  });

  it('without a byte limit the first answer carries every record and nothing is paged', async () => {
    const sim = new KadSimulation({ seed: 5 });
    await sim.grow(3);
    const key = sim.randomBytes(32);
    const records = manyRecords(sim, key, 50);
    for (const node of sim.nodes.slice(0, 2)) for (const record of records) node.dht.store.put(key, record, node.dht.idHex);
    const reader = sim.nodes[2];
    const before = sim.hub.requests;
    const queriesBefore = reader.dht.stats.queries;
    const found = await sim.until(reader.dht.getRecords(key, { quorum: 1 }));
    assert.equal(found.length, 50);
    assert.equal(sim.hub.requests - before, reader.dht.stats.queries - queriesBefore);
    sim.stop();
  });
});
