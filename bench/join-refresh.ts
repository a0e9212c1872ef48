/**
 * What the join's bucket refreshes buy (issue 19, set-up time): N nodes join one by one
 * (16 at a time) on the simulator (25 ms one-way latency + up to 10 ms jitter, real joins,
 * no warm-up), once per `joinRefreshBuckets` value; then 300 lookups of random targets.
 * Prints requests per join, lookup round trips (of the mean 60 ms RTT), messages per lookup
 * and the routing-table size. Same seed for every value, so the networks differ only there.
 *
 *   node --import tsx bench/join-refresh.ts [N=1000] [seed=7] [refreshes=3,1,0]
 */
import { KadSimulation } from '../src/kademlia/simulation.js';
import { median, percentile, printTable } from './util.js';

const N = Number(process.argv[2] ?? 1000);
const SEED = Number(process.argv[3] ?? 7);
const REFRESHES = (process.argv[4] ?? '3,1,0').split(',').map(Number);
const MEAN_RTT_MS = 60;

const rows: string[][] = [];
for (const refresh of REFRESHES) {
  const sim = new KadSimulation({ latencyMs: 25, jitterMs: 10, seed: SEED, dht: { joinRefreshBuckets: refresh, refreshOnJoin: refresh > 0 } });
  const before = sim.hub.requests;
  await sim.grow(N, 16);
  const joinRequests = (sim.hub.requests - before) / N;
  const roundTrips: number[] = [];
  const messages: number[] = [];
  for (let wave = 0; wave < 6; wave++) {
    const lookups = Array.from({ length: 50 }, () => sim.nodes[Math.floor(sim.random() * N)].dht.lookup(sim.randomBytes(32)));
    for (const result of await sim.until(Promise.all(lookups))) {
      roundTrips.push(result.durationMs / MEAN_RTT_MS);
      messages.push(result.queries);
    }
  }
  const tableSizes = sim.nodes.map((node) => node.dht.table.size);
  rows.push([
    String(refresh),
    joinRequests.toFixed(1),
    median(roundTrips).toFixed(2),
    (roundTrips.reduce((sum, value) => sum + value, 0) / roundTrips.length).toFixed(2),
    percentile(roundTrips, 99).toFixed(2),
    String(median(messages)),
    String(median(tableSizes)),
  ]);
  sim.stop();
}
console.log(`\njoin refreshes on the simulator, N = ${N}, seed ${SEED}`);
printTable(['refreshed buckets', 'requests per join', 'lookup RT median', 'RT mean', 'RT p99', 'msgs median', 'table median'], rows);
