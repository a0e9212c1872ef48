import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateIdentity } from '../../src/crypto/index.js';
import { compareDistance } from '../../src/kademlia/keyspace.js';
import { signRecord } from '../../src/kademlia/record.js';
import { KadSimulation, type SimNode } from '../../src/kademlia/simulation.js';

const AUTHORS = 10;

/** A 30-node network holding ten authors' records under one key, then 30 newcomers. */
async function joinAfterStores(handoff: boolean): Promise<{ sim: KadSimulation; key: Uint8Array; closestNewcomers: SimNode[] }> {
  const sim = new KadSimulation({ seed: 41, dht: { handoff } });
  await sim.grow(30);
  const key = sim.randomBytes(32);
  const expiresAt = Math.floor(sim.nodes[0].dht.wallNow() + 3600_000);
  for (let i = 0; i < AUTHORS; i++) {
    const record = signRecord(sim.suite, generateIdentity(sim.suite), { key, seq: 1, value: new TextEncoder().encode(`provider ${i}`), expiresAt });
    await sim.until(sim.nodes[i].dht.putRecord(record));
  }
  const newcomers: SimNode[] = [];
  for (let i = 0; i < 30; i++) {
    const node = sim.addNode();
    await sim.join(node);
    newcomers.push(node);
  }
  await sim.advance(5_000);
  // The k closest of the whole network now: those among them that joined after the stores.
  const k = sim.nodes[0].dht.k;
  const byDistance = sim.live().sort((a, b) => compareDistance(a.dht.position, b.dht.position, key));
  const closest = new Set(byDistance.slice(0, k));
  return { sim, key, closestNewcomers: newcomers.filter((node) => closest.has(node)) };
}

describe('record hand-off to nodes that join near a key', () => {
  it('newcomers among the k closest receive every record of the key from its holders', async () => {
    const { sim, key, closestNewcomers } = await joinAfterStores(true);
    assert.ok(closestNewcomers.length >= 3, `the seed puts several newcomers among the closest (${closestNewcomers.length})`);
    for (const node of closestNewcomers) assert.equal(node.dht.store.get(key).length, AUTHORS, `newcomer ${node.index} holds the whole set`);
    const handedOff = sim.live().reduce((sum, node) => sum + node.dht.stats.recordsHandedOff, 0);
    assert.ok(handedOff >= closestNewcomers.length * AUTHORS, `records handed off: ${handedOff}`);
    // A reader that stops after the nearest three holders gets every author.
    assert.equal((await sim.until(sim.nodes[29].dht.getRecords(key, { quorum: 3 }))).length, AUTHORS);
    sim.stop();
  });

  it('without hand-off the same newcomers hold nothing until a republish (what hand-off fixes)', async () => {
    const { sim, key, closestNewcomers } = await joinAfterStores(false);
    assert.ok(closestNewcomers.length >= 3);
    for (const node of closestNewcomers) assert.equal(node.dht.store.get(key).length, 0);
    sim.stop();
  });
});
