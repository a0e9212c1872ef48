import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateIdentity } from '../../src/crypto/index.js';
import { compareDistance } from '../../src/kademlia/keyspace.js';
import { signRecord } from '../../src/kademlia/record.js';
import { KadSimulation } from '../../src/kademlia/simulation.js';

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);
const HOUR = 3600_000;

describe('mutable put seq across restarts', () => {
  it('a put after a restart (fresh node state, same key pair) supersedes the old value', async () => {
    const sim = new KadSimulation({ seed: 5 });
    await sim.grow(30);
    const me = generateIdentity(sim.suite);
    const a = sim.nodes[3];
    await sim.until(a.dht.put(text('v1'), { keyPair: me }));
    const v2 = await sim.until(a.dht.put(text('v2'), { keyPair: me }));
    a.dht.stop();
    const restarted = sim.addNode();
    await sim.join(restarted);
    const v3 = await sim.until(restarted.dht.put(text('v3 after restart'), { keyPair: me }));
    assert.ok(v3.record.seq > v2.record.seq);
    assert.ok(v3.stored > 1);
    const got = await sim.until(sim.nodes[7].dht.get(v2.key));
    assert.equal(str(got?.value), 'v3 after restart');
    sim.stop();
  });

  it('an explicit lower seq is refused with a typed stale error instead of resolving', async () => {
    const sim = new KadSimulation({ seed: 6 });
    await sim.grow(20);
    const me = generateIdentity(sim.suite);
    const v2 = await sim.until(sim.nodes[2].dht.put(text('v2'), { keyPair: me, seq: 2 }));
    const fresh = sim.addNode();
    await sim.join(fresh);
    await assert.rejects(sim.until(fresh.dht.put(text('old'), { keyPair: me, seq: 1 })), (error: any) => {
      assert.equal(error.code, 'ERR_PEER');
      assert.equal(error.details.reason, 'stale');
      return true;
    });
    assert.equal(str((await sim.until(fresh.dht.get(v2.key)))?.value), 'v2');
    sim.stop();
  });

  it('a lone node still stores a put locally and resolves', async () => {
    const sim = new KadSimulation({ seed: 7 });
    await sim.grow(1);
    const result = await sim.until(sim.nodes[0].dht.put(text('alone'), { keyPair: generateIdentity(sim.suite) }));
    assert.equal(result.stored, 1);
    sim.stop();
  });

  it('putRecord refuses an open-set record that expires further ahead than holders accept', async () => {
    const sim = new KadSimulation({ seed: 8 });
    await sim.grow(1);
    const node = sim.nodes[0];
    const record = signRecord(sim.suite, generateIdentity(sim.suite), {
      key: sim.randomBytes(32),
      seq: 1,
      expiresAt: Math.floor(sim.wallClock() + 30 * HOUR),
      value: text('p'),
    });
    await assert.rejects(node.dht.putRecord(record), { code: 'ERR_INVALID_ARGUMENT' });
    sim.stop();
  });
});

describe('holder refresh', () => {
  it("re-stores many providers' records, forwarded by one holder, whole at nodes that became holders since", async () => {
    const sim = new KadSimulation({ seed: 11, dht: { k: 8, holderRefreshMs: 5 * 60_000, maintenanceMs: 60_000 } });
    await sim.grow(20);
    const key = sim.randomBytes(32);
    const expiresAt = Math.floor(sim.wallClock() + 2 * HOUR);
    const records = Array.from({ length: 60 }, () => signRecord(sim.suite, generateIdentity(sim.suite), { key, seq: 1, expiresAt, value: text('addr') }));
    // One node forwards all 60 (as a holder's refresh does); nobody re-stores them afterwards.
    assert.ok((await sim.until(sim.nodes[0].dht.storeToClosest(key, records))) > 0);
    const before = new Set(sim.nodes.filter((n) => n.dht.store.get(key).length > 0));
    await sim.grow(30);
    await sim.advance(7 * 60_000);
    const closest = [...sim.nodes].sort((x, y) => compareDistance(x.dht.position, y.dht.position, key)).slice(0, 8);
    const newcomers = closest.filter((n) => !before.has(n));
    assert.ok(newcomers.length > 0, 'some of the k closest joined after the records were stored');
    for (const node of closest) assert.equal(node.dht.store.get(key).length, 60);
    sim.stop();
  });
});
