/**
 * Shared body of the 1,000-node tests (normal suite) and the larger runs under test/scale.
 * Nodes join one by one through real lookups; values are real signed records.
 */
import assert from 'node:assert/strict';
import { KadSimulation, type SimNode } from '../../src/kademlia/simulation.js';

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

/** Builds a joined network of `n` nodes. */
export async function joinedNetwork(n: number, seed: number, extra: { loss?: number } = {}): Promise<KadSimulation> {
  const sim = new KadSimulation({ seed, jitterMs: 10, ...extra, dht: { refreshOnJoin: false, maintenanceMs: 30_000 } });
  await sim.grow(n, 50);
  return sim;
}

/** Puts `count` values from random live nodes; returns their keys and expected values. */
export async function putValues(sim: KadSimulation, count: number, tag: string): Promise<Array<{ key: Uint8Array; value: string }>> {
  const live = sim.live();
  const puts = Array.from({ length: count }, (_, i) => {
    const value = `${tag} value ${i}`;
    const writer = live[Math.floor(sim.random() * live.length)];
    return writer.dht.put(text(value)).then((r) => ({ key: r.key, value }));
  });
  return sim.until(Promise.all(puts));
}

/** Runs `count` gets of random keys from random live nodes, all at once; returns the number that returned the right value. */
export async function getSuccesses(sim: KadSimulation, values: Array<{ key: Uint8Array; value: string }>, count: number): Promise<number> {
  const live = sim.live();
  const gets = Array.from({ length: count }, async () => {
    const reader: SimNode = live[Math.floor(sim.random() * live.length)];
    const { key, value } = values[Math.floor(sim.random() * values.length)];
    const got = await reader.dht.get(key).catch(() => null);
    return str(got?.value) === value ? 1 : 0;
  });
  const results = await sim.until(Promise.all(gets));
  return results.reduce<number>((a, b) => a + b, 0);
}

/** Every sampled node finds every key. */
export async function everyNodeFindsEveryKey(n: number, readers: number, keys: number, seed: number): Promise<void> {
  const sim = await joinedNetwork(n, seed);
  const values = await putValues(sim, keys, 'all');
  const sample = sim.live().filter((_, i) => i % Math.max(1, Math.floor(n / readers)) === 0);
  const gets = sample.flatMap((reader) => values.map(async ({ key, value }) => str((await reader.dht.get(key))?.value) === value));
  const results = await sim.until(Promise.all(gets));
  assert.equal(results.filter((ok) => !ok).length, 0, `${results.filter((ok) => !ok).length} of ${results.length} gets failed`);
  sim.stop();
}

/**
 * Churn: in `phases` steps, `fraction` of the original nodes crash in total and as many new
 * ones join, while gets run between steps. Asserts the success rate.
 */
export async function churnRun(n: number, fraction: number, totalGets: number, seed: number, minRate: number): Promise<number> {
  const sim = await joinedNetwork(n, seed);
  const values = await putValues(sim, 40, 'churn');
  const phases = 10;
  const perPhase = Math.round((n * fraction) / phases);
  let ok = 0;
  for (let phase = 0; phase < phases; phase++) {
    const live = sim.live();
    for (let i = 0; i < perPhase; i++) sim.crash(live.splice(Math.floor(sim.random() * live.length), 1)[0]);
    const joining = Array.from({ length: perPhase }, () => sim.addNode());
    await sim.until(Promise.all(joining.map((node) => node.dht.start([live[Math.floor(sim.random() * live.length)].contact]))));
    ok += await getSuccesses(sim, values, totalGets / phases);
    await sim.advance(30_000); // maintenance: sweeps, bucket refresh, republish
  }
  const rate = ok / totalGets;
  assert.ok(rate >= minRate, `success rate ${rate} < ${minRate}`);
  sim.stop();
  return rate;
}

/** Loss: gets and puts with `loss` per-message loss. */
export async function lossRun(n: number, loss: number, totalGets: number, seed: number, minRate: number): Promise<number> {
  const sim = await joinedNetwork(n, seed);
  sim.hub.setLoss(loss);
  const values = await putValues(sim, 40, 'loss');
  const ok = await getSuccesses(sim, values, totalGets);
  const rate = ok / totalGets;
  assert.ok(rate >= minRate, `success rate ${rate} < ${minRate}`);
  sim.stop();
  return rate;
}
