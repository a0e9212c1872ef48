/**
 * Lookup cost on a simulated network (virtual clock): 25 ms one-way latency plus up to
 * 10 ms jitter, N = 100, 1,000, 10,000 nodes with warm routing tables. Reports median/p99
 * lookup time (ms and round trips of the mean 60 ms RTT), messages per lookup, the same for
 * get() of stored values, and heap per node. Run: node --import tsx bench/lookup.ts [N...]
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { KadSimulation } from '../src/kademlia/simulation.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const LATENCY = 25;
const JITTER = 10;
const MEAN_RTT = 2 * (LATENCY + JITTER / 2);
const LOOKUPS = 300;
const WAVE = 50;

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const median = (values: number[]) =>
  quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
const p99 = (values: number[]) =>
  quantile(
    [...values].sort((a, b) => a - b),
    0.99,
  );

async function run(n: number) {
  const started = performance.now();
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const sim = new KadSimulation({ latencyMs: LATENCY, jitterMs: JITTER, seed: n });
  for (let i = 0; i < n; i++) sim.addNode();
  await sim.populateTables();
  gc();
  const heapPerNode = (process.memoryUsage().heapUsed - heapBefore) / n;

  const times: number[] = [];
  const messages: number[] = [];
  for (let done = 0; done < LOOKUPS; done += WAVE) {
    const wave = Array.from({ length: WAVE }, () => sim.nodes[Math.floor(sim.random() * n)].dht.lookup(sim.randomBytes(32)));
    for (const result of await sim.until(Promise.all(wave))) {
      times.push(result.durationMs);
      messages.push(result.queries);
    }
  }

  const text = new TextEncoder();
  const values = await sim.until(Promise.all(Array.from({ length: 30 }, (_, i) => sim.nodes[i % n].dht.put(text.encode(`value ${i}`)))));
  const getTimes: number[] = [];
  let getRequests = 0;
  let found = 0;
  for (let done = 0; done < LOOKUPS; done += WAVE) {
    const before = sim.hub.requests;
    const wave = Array.from({ length: WAVE }, async () => {
      const t0 = sim.clock.now();
      const got = await sim.nodes[Math.floor(sim.random() * n)].dht.get(values[Math.floor(sim.random() * values.length)].key);
      getTimes.push(sim.clock.now() - t0);
      if (got !== null) found++;
    });
    await sim.until(Promise.all(wave));
    getRequests += sim.hub.requests - before;
  }
  sim.stop();
  return {
    n,
    lookupMedianMs: median(times),
    lookupP99Ms: p99(times),
    lookupMsgsMedian: median(messages),
    lookupMsgsP99: p99(messages),
    getMedianMs: median(getTimes),
    getP99Ms: p99(getTimes),
    getMsgsMean: getRequests / LOOKUPS,
    found,
    heapPerNode,
    seconds: (performance.now() - started) / 1000,
  };
}

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((x) => x > 0);
const rows = [];
for (const n of sizes.length > 0 ? sizes : [100, 1000, 10_000]) rows.push(await run(n));
const rt = (ms: number) => (ms / MEAN_RTT).toFixed(2);
console.log(
  `\nKademlia lookups, simulated ${LATENCY} ms one-way + <=${JITTER} ms jitter (mean RTT ${MEAN_RTT} ms), k=20, alpha=3, ${LOOKUPS} lookups and ${LOOKUPS} gets per N`,
);
console.log(
  '| N | lookup median ms (RT) | lookup p99 ms (RT) | msgs/lookup median (p99) | get median ms (RT) | get p99 ms (RT) | msgs/get mean | gets found | heap/node | run s |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.n} | ${r.lookupMedianMs.toFixed(0)} (${rt(r.lookupMedianMs)}) | ${r.lookupP99Ms.toFixed(0)} (${rt(r.lookupP99Ms)}) | ${r.lookupMsgsMedian} (${r.lookupMsgsP99}) | ${r.getMedianMs.toFixed(0)} (${rt(r.getMedianMs)}) | ${r.getP99Ms.toFixed(0)} (${rt(r.getP99Ms)}) | ${r.getMsgsMean.toFixed(1)} | ${r.found}/${LOOKUPS} | ${(r.heapPerNode / 1024).toFixed(1)} KB | ${r.seconds.toFixed(1)} |`,
  );
}
