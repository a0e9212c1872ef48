/**
 * 200 simulated nodes, 50 providers of one service: every node finds all 50 through paged
 * answers; 10 withdrawals vanish from the very next lookup; 10 crashed providers vanish
 * after their TTL, while nodes leave and join.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Provider } from '../../src/discovery/index.js';
import { DiscoverySim, type DiscoveryNode } from './sim.js';

const TTL = 30_000;
// Answers are cut to what fits a datagram (1090 bytes of records), so 50 providers span several pages.
const sim = new DiscoverySim({ latencyMs: 10, jitterMs: 4, seed: 5, answerBytes: 1090, discovery: { defaultTtlMs: TTL } });
let nodes: DiscoveryNode[] = [];
let providers: DiscoveryNode[] = [];

const ids = (list: Provider[]) => new Set(list.map((p) => p.id));
const idOf = (node: DiscoveryNode) => Buffer.from(node.keyPair.publicKey).toString('hex');

async function lookupEverywhere(from: DiscoveryNode[]): Promise<Provider[][]> {
  return sim.until(Promise.all(from.map((n) => n.discovery.lookup('web', { fresh: true }))));
}

before(async () => {
  nodes = sim.build(200);
  providers = nodes.slice(0, 50);
  await sim.until(Promise.all(providers.map((n, i) => n.discovery.register('web', { metadata: { index: i, zone: `z${i % 5}` } }))));
});

after(() => sim.stop());

test('every node finds all 50 providers with their metadata, through paged answers', async () => {
  const results = await lookupEverywhere(nodes);
  const expected = new Map(providers.map((n, i) => [idOf(n), i]));
  for (const result of results) {
    assert.equal(result.length, 50);
    for (const provider of result) {
      const index = expected.get(provider.id);
      assert.notEqual(index, undefined, 'unknown provider');
      assert.deepEqual(provider.metadata, { index, zone: `z${index! % 5}` });
      assert.equal(provider.addresses.length, 2);
      assert.equal(provider.addresses[1].host, '192.168.1.10');
    }
  }
  assert.ok(sim.kad.hub.pageRequests > 0, 'answers with 50 records span several datagrams');
});

test('a cached lookup costs no traffic and returns the same set', async () => {
  const reader = nodes[150];
  const first = await sim.until(reader.discovery.lookup('web'));
  const requests = sim.kad.hub.requests;
  const second = await sim.until(reader.discovery.lookup('web'));
  assert.equal(sim.kad.hub.requests, requests);
  assert.deepEqual(ids(second), ids(first));
  const limited = await sim.until(reader.discovery.lookup('web', { limit: 5 }));
  assert.equal(limited.length, 5);
});

test('10 withdrawals disappear from the next lookup on every node', async () => {
  const withdrawn = providers.slice(0, 10);
  await sim.until(Promise.all(withdrawn.map((n) => n.discovery.unregister('web'))));
  const gone = new Set(withdrawn.map(idOf));
  const results = await lookupEverywhere(nodes);
  for (const result of results) {
    assert.equal(result.length, 40);
    for (const provider of result) assert.ok(!gone.has(provider.id), 'a withdrawn provider was returned');
  }
});

test('10 crashed providers disappear after their TTL, with churn meanwhile', async () => {
  const crashed = providers.slice(10, 20);
  for (const node of crashed) await sim.crash(node);
  // Churn: 20 non-providers leave, 20 new nodes join the real way.
  for (const node of nodes.slice(100, 120)) await sim.crash(node);
  const joiners: DiscoveryNode[] = [];
  for (let i = 0; i < 20; i++) joiners.push(await sim.join());
  // Before expiry the crashed providers are still listed (nobody can know they died).
  const early = await sim.until(nodes[160].discovery.lookup('web', { fresh: true }));
  assert.equal(early.length, 40);
  await sim.advance(TTL + 1_000);
  const live = new Set(providers.slice(20).map(idOf));
  const results = await lookupEverywhere(sim.live());
  assert.equal(results.length, 200 - 10 - 20 + 20);
  for (const result of results) assert.deepEqual(ids(result), live);
});
