import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateIdentity } from '../../src/crypto/index.js';
import { contactsFromSnapshot } from '../../src/kademlia/snapshot.js';
import { KadSimulation } from '../../src/kademlia/simulation.js';

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

describe('small networks', () => {
  for (const n of [1, 2, 3, 5]) {
    it(`${n} node(s): every node reads every node's immutable and mutable values`, async () => {
      const sim = new KadSimulation({ seed: n, jitterMs: 5 });
      await sim.grow(n);
      const author = generateIdentity(sim.suite);
      const keys = [];
      for (const node of sim.nodes) {
        keys.push((await sim.until(node.dht.put(text(`from ${node.index}`)))).key);
      }
      const mutable = await sim.until(sim.nodes[0].dht.put(text('m1'), { keyPair: author, seq: 1 }));
      assert.ok(mutable.stored >= 1);
      for (const reader of sim.nodes) {
        for (const [i, key] of keys.entries()) assert.equal(str((await sim.until(reader.dht.get(key)))?.value), `from ${i}`);
        assert.equal(str((await sim.until(reader.dht.get(mutable.key)))?.value), 'm1');
      }
      // Each value reached every node (k = 20 > n), the writer included.
      for (const node of sim.nodes) assert.equal(node.dht.store.size, n + 1);
      // Lookups end and find the other nodes.
      const result = await sim.until(sim.nodes[0].dht.lookup(sim.randomBytes(32)));
      assert.equal(result.closest.length, n - 1);
      sim.stop();
    });
  }

  it('a mutable value: the highest seq wins, an older one cannot replace it, a withdrawal hides it', async () => {
    const sim = new KadSimulation({ seed: 9 });
    await sim.grow(5);
    const author = generateIdentity(sim.suite);
    const [a, b, c] = sim.nodes;
    const salt = text('profile');
    await sim.until(a.dht.put(text('v1'), { keyPair: author, salt, seq: 1 }));
    const v2 = await sim.until(b.dht.put(text('v2'), { keyPair: author, salt, seq: 2 }));
    // Every holder has seq 2: the put is refused as stale with a typed error rather than resolving.
    await assert.rejects(
      sim.until(c.dht.put(text('old'), { keyPair: author, salt, seq: 1 })),
      (e: any) => e.code === 'ERR_PEER' && e.details?.reason === 'stale',
    );
    const got = await sim.until(c.dht.get(v2.key));
    assert.equal(str(got?.value), 'v2');
    assert.equal(got?.record.seq, 2);
    const withdrawal = c.dht.putRecord(
      (await import('../../src/kademlia/record.js')).signRecord(sim.suite, author, {
        key: v2.key,
        seq: 3,
        expiresAt: v2.record.expiresAt,
        value: new Uint8Array(0),
        salt,
        withdrawn: true,
      }),
    );
    await sim.until(withdrawal);
    assert.equal(await sim.until(a.dht.get(v2.key)), null);
    sim.stop();
  });

  it('a STORE without the write token issued to that requester is refused', async () => {
    const sim = new KadSimulation({ seed: 3 });
    await sim.grow(2);
    const [a, b] = sim.nodes;
    const record = (await import('../../src/kademlia/record.js')).createImmutableRecord(sim.suite, text('x'), Math.floor(sim.wallClock() + 60_000));
    const token = b.dht.handleFindNode(a.contact, record.key).token!;
    // The token works for a, not for a spoofer at another address, nor for a forged token.
    const spoofed = { id: a.contact.id, address: { host: '198.51.100.9', port: 1 } };
    assert.deepEqual(b.dht.handleStore(spoofed, record.key, record, token), { ok: false, reason: 'token' });
    assert.deepEqual(b.dht.handleStore(a.contact, record.key, record, new Uint8Array(16)), { ok: false, reason: 'token' });
    assert.deepEqual(b.dht.handleStore(a.contact, record.key, record, token), { ok: true });
    sim.stop();
  });

  it('client-mode nodes query and store but never enter routing tables', async () => {
    const sim = new KadSimulation({ seed: 4 });
    await sim.grow(5);
    const client = sim.addNode({ clientMode: true });
    await sim.join(client);
    const put = await sim.until(client.dht.put(text('from client')));
    assert.ok(put.stored >= 5);
    assert.equal(client.dht.store.size, 0); // a client keeps no copy: nobody would ask it
    for (const node of sim.nodes) {
      if (node === client) continue;
      assert.ok(!node.dht.table.has(client.contact.id, client.dht.position));
    }
    assert.ok(client.dht.table.size >= 5);
    assert.equal(str((await sim.until(sim.nodes[0].dht.get(put.key)))?.value), 'from client');
    sim.stop();
  });

  it('expired values disappear; authors republish theirs before expiry', async () => {
    const sim = new KadSimulation({ seed: 5, dht: { maintenanceMs: 10_000 } });
    await sim.grow(5);
    const [a, b] = sim.nodes;
    const kept = await sim.until(a.dht.put(text('kept'), { ttlMs: 60_000 }));
    const dropped = await sim.until(a.dht.put(text('dropped'), { ttlMs: 60_000, republish: false }));
    await sim.advance(200_000);
    assert.equal(str((await sim.until(b.dht.get(kept.key)))?.value), 'kept');
    assert.equal(await sim.until(b.dht.get(dropped.key)), null);
    assert.ok(sim.nodes.every((n) => n.dht.store.get(dropped.key).length === 0));
    sim.stop();
  });

  it('a restarted node rejoins from its routing-table snapshot, without the bootstrap node', async () => {
    const sim = new KadSimulation({ seed: 6 });
    await sim.grow(8);
    const node = sim.nodes[7];
    const snapshot = JSON.parse(JSON.stringify(node.dht.snapshot()));
    sim.crash(sim.nodes[0]); // the bootstrap node is gone
    sim.crash(node);
    const again = sim.addNode();
    await sim.join(again, contactsFromSnapshot(snapshot));
    assert.ok(again.dht.table.size >= 5);
    const put = await sim.until(sim.nodes[3].dht.put(text('after restart')));
    assert.equal(str((await sim.until(again.dht.get(put.key)))?.value), 'after restart');
    sim.stop();
  });

  it('stop() aborts pending lookups and leaves no timer behind', async () => {
    const sim = new KadSimulation({ seed: 7 });
    await sim.grow(3);
    const node = sim.nodes[1];
    sim.hub.setOnline(sim.nodes[0].contact.id, false);
    sim.hub.setOnline(sim.nodes[2].contact.id, false);
    const pending = node.dht.lookup(sim.randomBytes(32));
    await sim.advance(10);
    for (const n of sim.nodes) n.dht.stop();
    await assert.rejects(pending, { code: 'ERR_ABORTED' });
    await sim.advance(10_000);
    assert.equal(sim.clock.pending, 0);
  });
});

describe('bucket refresh', () => {
  it('a quiet node refreshes its sparse neighbourhood buckets with one lookup of its own position', async () => {
    // The first maintenance tick comes at 20 min, when every bucket is past its 15 min.
    const sim = new KadSimulation({ seed: 31, dht: { maintenanceMs: 20 * 60_000, bucketRefreshMs: 15 * 60_000 } });
    await sim.grow(80);
    // The first node: its tick comes before the others', whose refresh lookups would freshen its buckets.
    const node = sim.nodes[0];
    const table = node.dht.table;
    await sim.advance(19 * 60_000); // no traffic
    const near = table.neighbourhoodStart(20);
    const stale = table.staleBuckets(15 * 60_000);
    const neighbourhood = stale.filter((i) => i >= near);
    assert.ok(neighbourhood.length >= 2, `stale neighbourhood buckets: ${neighbourhood.join(', ')} (from ${near})`);
    const before = node.dht.stats.lookups;
    await sim.advance(60_000); // the tick
    const lookups = node.dht.stats.lookups - before;
    const far = stale.filter((i) => i < near).length;
    // One lookup for the whole neighbourhood, one per far bucket (at most four a tick).
    assert.equal(lookups, 1 + Math.min(4, far), `lookups ${lookups}, far stale ${far}`);
    for (const index of neighbourhood) assert.ok(!table.staleBuckets(15 * 60_000).includes(index), `bucket ${index} refreshed`);
    sim.stop();
  });
});
