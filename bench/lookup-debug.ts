import { KadSimulation } from '../src/kademlia/simulation.js';
import { iterativeLookup } from '../src/kademlia/lookup.js';
import { compareDistance } from '../src/kademlia/keyspace.js';
const n = Number(process.argv[2] ?? 1000);
const sim = new KadSimulation({ jitterMs: 10 });
for (let i = 0; i < n; i++) sim.addNode();
await sim.populateTables();
for (let t = 0; t < 5; t++) {
  const node = sim.nodes[Math.floor(sim.random() * n)]!;
  const target = sim.randomBytes(32);
  const ranks = new Map(sim.nodes.map(x => x).sort((a, b) => compareDistance(a.dht.position, b.dht.position, target)).map((x, i) => [x.contact.id, i]));
  const rankOf = (id: Uint8Array) => { for (const [k, v] of ranks) if (Buffer.compare(k, id) === 0) return v; return -1; };
  const log: string[] = [];
  const r = await sim.until(iterativeLookup({ target, seeds: node.dht.closestContacts(target), positions: node.dht.positions, clock: sim.clock, self: node.contact.id,
    query: (to, signal) => { log.push(`${sim.clock.now().toFixed(0)}:${rankOf(to.id)}`); return node.endpoint.findNode(to, target, signal); } }));
  console.log(r.queries, r.durationMs.toFixed(0), log.join(' '));
}
sim.stop();
