/**
 * Discovery benchmark: lookup cost for a service with 1, 10, 100 and 1,000 providers on a
 * simulated network of N = 1,000 nodes (25 ms one-way latency + up to 10 ms jitter, virtual
 * clock), and the time from `unregister()` until lookups stop returning the provider.
 *
 * The in-memory network limits each FIND_VALUE answer to the records that fit one 1200-byte
 * datagram (`answerBytes`, the wire budget after the envelope), exactly as the UDP transport
 * does; the DHT then fetches the remaining pages from the best holders after the lookup, and
 * each page is a real extra round trip. Routing tables are filled directly (a converged
 * network) so that building 1,000 nodes takes seconds.
 *
 * Then live watch against polling (bench/discovery-watch.ts): delay and datagrams per watcher.
 *
 * Run: node --import tsx bench/discovery.ts
 */
import { setMaxListeners } from 'node:events';
import { encodeMetadata, encodeProviderValue, serviceKey } from '../src/discovery/index.js';
import { compareDistance } from '../src/kademlia/keyspace.js';
import { signRecord } from '../src/kademlia/record.js';
import { DiscoverySim, type DiscoveryNode } from '../test/discovery/sim.js';
import { median, percentile, printTable } from './util.js';
import { benchWatch, benchWatchUdp } from './discovery-watch.js';

const N = Number(process.env.MCC_BENCH_N ?? 1_000);
const PROVIDER_COUNTS = (process.env.MCC_BENCH_PROVIDERS ?? '1,10,100,1000').split(',').map(Number);
const LOOKUPS = 6;
const ONE_WAY_MS = 25;
const JITTER_MS = 10;
const RTT_MS = 2 * ONE_WAY_MS + JITTER_MS; // mean round trip

// The DHT hangs one listener per in-flight query on a lookup's signal; that is not a leak.
setMaxListeners(64);
const started = performance.now();
// The bytes of records one FIND_VALUE datagram carries (the wire budget after envelope and contacts).
const ANSWER_BYTES = 1090;
const sim = new DiscoverySim({ latencyMs: ONE_WAY_MS, jitterMs: JITTER_MS, seed: 42, answerBytes: ANSWER_BYTES, discovery: { cacheMs: 0 } });
const nodes = sim.build(N);
const clock = sim.kad.clock;

function pick(count: number, offset: number): DiscoveryNode[] {
  return Array.from({ length: count }, (_, i) => nodes[(offset + i * 7) % nodes.length]);
}

function placeRecords(service: string, providers: DiscoveryNode[]): void {
  const suite = sim.kad.suite;
  const key = serviceKey(suite, service);
  const holders = [...nodes].sort((a, b) => compareDistance(a.sim.dht.position, b.sim.dht.position, key)).slice(0, 20);
  const now = Math.floor(sim.kad.wallClock());
  providers.forEach((provider, j) => {
    const value = encodeProviderValue(
      { addresses: [provider.sim.contact.address, { host: '192.168.1.10', port: 4000 }], relays: [] },
      encodeMetadata({ region: `r${j % 8}`, weight: 1 }),
    );
    const record = signRecord(suite, provider.keyPair, { key, seq: now, expiresAt: now + 120_000, value });
    for (const holder of holders) holder.sim.dht.store.put(key, record, provider.sim.dht.idHex);
  });
}

const rows: string[][] = [];
for (const count of PROVIDER_COUNTS) {
  const service = `svc-${count}`;
  const providers = count === N ? nodes : pick(count, 1);
  if (count <= 100) {
    await sim.until(Promise.all(providers.map((n, j) => n.discovery.register(service, { metadata: { region: `r${j % 8}`, weight: 1 } }))));
  } else {
    // 1,000 full registrations would take minutes of CPU here: place the signed records on the
    // k closest nodes directly, exactly where registration puts them.
    placeRecords(service, providers);
  }
  const times: number[] = [];
  const messages: number[] = [];
  const pages: number[] = [];
  let complete = 0;
  for (const reader of pick(LOOKUPS, 500)) {
    const before = { pages: sim.kad.hub.pageRequests, requests: sim.kad.hub.requests };
    const t0 = clock.now();
    const found = await sim.until(reader.discovery.lookup(service, { fresh: true }));
    times.push(clock.now() - t0);
    messages.push(sim.kad.hub.requests - before.requests);
    pages.push(sim.kad.hub.pageRequests - before.pages);
    if (found.length === count) complete++;
  }
  rows.push([
    String(count),
    median(times).toFixed(0),
    percentile(times, 90).toFixed(0),
    (median(times) / RTT_MS).toFixed(1),
    median(messages).toFixed(0),
    median(pages).toFixed(0),
    `${complete}/${LOOKUPS}`,
  ]);
}

console.log(`\nDiscovery lookup, N = ${N}, ${ONE_WAY_MS} ms one-way + ${JITTER_MS} ms jitter (mean RTT ${RTT_MS} ms), quorum 3, ${LOOKUPS} fresh lookups each`);
printTable(['providers', 'median ms', 'p90 ms', 'median RTTs', 'msgs/lookup', 'extra pages', 'complete'], rows);

// Time from unregister() until lookups stop returning the provider: 20 readers look up in a loop.
const service = `svc-${Math.min(100, Math.max(...PROVIDER_COUNTS))}`;
const leaving = pick(1, 1)[0];
const leavingId = Buffer.from(leaving.keyPair.publicKey).toString('hex');
const t0 = clock.now();
let unregisteredAfter = 0;
let lastSeen = 0;
let lookupsAfter = 0;
const unregister = leaving.discovery.unregister(service).then(() => (unregisteredAfter = clock.now() - t0));
const readers = pick(10, 300).map(async (reader) => {
  while (clock.now() - t0 < 1_000) {
    const found = await reader.discovery.lookup(service, { fresh: true });
    if (found.some((p) => p.id === leavingId)) lastSeen = Math.max(lastSeen, clock.now() - t0);
    else lookupsAfter++;
  }
});
await sim.until(Promise.all([unregister, ...readers]));
console.log('\nunregister() -> last lookup still returning the provider (10 readers looking up back to back for 1 s, cache off)');
printTable(
  ['unregister() resolved', 'last lookup returning it ended', 'lookups without it'],
  [[`${unregisteredAfter.toFixed(0)} ms`, `${lastSeen.toFixed(0)} ms`, String(lookupsAfter)]],
);
console.log('(with the default 2 s lookup cache, a reader that looked up just before may serve the provider up to 2 s longer)');
await sim.stop();
console.log(`\nwall time ${((performance.now() - started) / 1000).toFixed(1)} s`);

await benchWatch();
await benchWatchUdp();
