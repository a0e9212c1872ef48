import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KadSimulation } from '../../src/kademlia/simulation.js';

describe('client mode', () => {
  it('a node that switches to client mode leaves the routing tables of the nodes it tells, and stays out', async () => {
    // Only the 10 nearest are told, so the rest must learn from its requests.
    const sim = new KadSimulation({ seed: 41, jitterMs: 5, dht: { clientModeAnnounce: 10 } });
    await sim.grow(60);
    const leaving = sim.nodes[7];
    const holders = () => sim.nodes.filter((node) => node !== leaving && node.dht.table.has(leaving.contact.id, leaving.dht.position));
    const before = holders();
    assert.ok(before.length >= 5, `only ${before.length} tables hold the node`);
    leaving.dht.clientMode = true;
    await sim.advance(1000);
    // Its nearest contacts were told at once.
    const told = leaving.dht.closestContacts(leaving.dht.position, undefined, 10).map((c) => c.id);
    for (const node of sim.nodes) {
      if (told.some((id) => id.every((byte, i) => byte === node.contact.id[i]))) {
        assert.equal(node.dht.table.has(leaving.contact.id, leaving.dht.position), false, `node ${node.index} still holds it`);
      }
    }
    // Lookups by everyone (which may meet it in others' answers and query it) do not bring it back,
    // and its own lookups remove it from the tables of whoever they reach.
    for (const node of sim.nodes) await sim.until(node.dht.lookup(sim.randomBytes(32)));
    for (let i = 0; i < 3; i++) await sim.until(leaving.dht.lookup(sim.randomBytes(32)));
    const after = holders();
    assert.ok(after.length < before.length / 4, `${after.length} of ${before.length} tables still hold it`);
    for (const node of after) assert.ok(!told.some((id) => id.every((byte, i) => byte === node.contact.id[i])), 'a told node re-added it');
    sim.stop();
  });

  it('a request flagged client mode removes its sender; a later server-mode request adds it back', async () => {
    const sim = new KadSimulation({ seed: 42 });
    await sim.grow(3);
    const [a, b] = sim.nodes;
    assert.ok(b.dht.table.has(a.contact.id, a.dht.position));
    b.dht.observe(a.contact, { clientMode: true });
    assert.equal(b.dht.table.has(a.contact.id, a.dht.position), false);
    b.dht.observe(a.contact); // an answer carries no flag: stays out
    assert.equal(b.dht.table.has(a.contact.id, a.dht.position), false);
    b.dht.observe(a.contact, { clientMode: false });
    assert.equal(b.dht.table.has(a.contact.id, a.dht.position), true);
    sim.stop();
  });
});
