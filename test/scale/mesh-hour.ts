/**
 * One simulated hour of a large mesh of real `MccNode`s (sessions, RPC, Kademlia, discovery,
 * NAT module: the production code) on the in-memory network and the virtual clock, with
 * churn, service registrations and lookups; returns the figures `npm run test:scale` reports
 * and bench/RESULTS.md records. Shared by test/scale/mesh.test.ts and bench/scale-hour.ts (smaller or shorter runs).
 *
 * Churn is crash-stop: a leaving node's socket closes first (its withdrawals reach nobody, as
 * when a process is killed), then its timers are cleared; a fresh node with a new identity
 * joins in its place through three random live nodes. Lookups are only scored for services
 * that still have a live provider: success means the answer held at least one of them.
 */
import { setMaxListeners } from 'node:events';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { MccNode } from '../../src/node/node.js';
import { SimNetwork } from '../../src/transport/sim/network.js';
import type { SimTransport } from '../../src/transport/sim/transport.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';
import { deriveRandom } from '../../src/transport/sim/random.js';

/** Parameters of {@link meshHour}. */
export interface MeshHourOptions {
  /** Nodes kept alive throughout (churn replaces, never shrinks). */
  nodes: number;
  /** Simulated minutes of churn and lookups after the join. Default 60. */
  minutes?: number;
  /** Fraction of the live nodes replaced each minute. Default 0.005 (30 % over an hour). */
  churnPerMinute?: number;
  /** Services registered, each by `providersPerService` nodes. Default nodes / 20. */
  services?: number;
  /** Providers of each service. Default 2. */
  providersPerService?: number;
  /** Lookups per simulated minute, each from a different random node. Default 50. */
  lookupsPerMinute?: number;
  /** Nodes started at once while the network is built. Default 100. */
  joinBatch?: number;
  /** One-way link latency, ms (plus up to `jitterMs`). Default 20. */
  latencyMs?: number;
  /** Jitter, ms. Default 10. */
  jitterMs?: number;
  /** Seed. Default 20. */
  seed?: number;
  /** Simulated minutes between progress lines. Default 10. */
  progressEvery?: number;
  /** Progress lines (stderr by default). */
  log?: (line: string) => void;
}

/** What one run measured. */
export interface MeshHourReport {
  nodes: number;
  minutes: number;
  joinWallMs: number;
  joinCpuMs: number;
  hourWallMs: number;
  hourCpuMs: number;
  /** Nodes replaced by churn during the hour. */
  replaced: number;
  lookups: number;
  /** Lookups whose answer held at least one live provider. */
  lookupSuccess: number;
  /** Live providers of the looked-up services, and how many of them the answers held. */
  liveProviders: number;
  liveProvidersFound: number;
  /** Providers returned that had crashed (records linger until they expire). */
  staleProviders: number;
  /** Lookup duration in round trips (virtual ms / mean RTT): median and p99. */
  roundTripsMedian: number;
  roundTripsP99: number;
  /** Request datagrams the looking node sent per lookup: median and p99 (answers double the traffic). */
  requestsMedian: number;
  requestsP99: number;
  /** Every datagram the network carried during the hour, per live node per minute (background included). */
  datagramsPerNodeMinute: number;
  /** Heap after a full GC divided by live nodes, KB, after the join and at the end. */
  heapPerNodeKbJoined: number;
  heapPerNodeKbEnd: number;
  /** ArrayBuffer backing stores (off the V8 heap above 64 bytes: keys, bitmaps) divided by live nodes, KB, at the end. */
  buffersPerNodeKbEnd: number;
  /** Resident set size at the end, MB. */
  rssMb: number;
}

interface Live {
  node: MccNode;
  transport: SimTransport;
}

const gc = ((): (() => void) => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function heapPerNodeKb(count: number): Promise<number> {
  gc();
  // ArrayBuffer backing stores are freed by a sweeper after the GC: let it run, collect again.
  await new Promise((resolve) => setTimeout(resolve, 100));
  gc();
  return process.memoryUsage().heapUsed / count / 1024;
}

const cpuMs = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

/** Runs the mesh for the simulated hour and returns its figures. */
export async function meshHour(options: MeshHourOptions): Promise<MeshHourReport> {
  const n = options.nodes;
  const minutes = options.minutes ?? 60;
  const churn = options.churnPerMinute ?? 0.005;
  const serviceCount = options.services ?? Math.max(1, Math.floor(n / 20));
  const perService = options.providersPerService ?? 2;
  const lookupsPerMinute = options.lookupsPerMinute ?? 50;
  const batch = options.joinBatch ?? 100;
  const latencyMs = options.latencyMs ?? 20;
  const jitterMs = options.jitterMs ?? 10;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const rttMs = 2 * latencyMs + jitterMs; // mean: each direction adds jitter/2 on average
  // Every lookup hangs listeners on shared signals; many at once is not a leak.
  setMaxListeners(0);

  const clock = new VirtualClock(0);
  const network = new SimNetwork({ clock, seed: options.seed ?? 20, defaultLink: { latencyMs, jitterMs } });
  const random = deriveRandom(options.seed ?? 20, 99);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
  const epoch = Date.UTC(2026, 0, 1);
  const wallClock = (): number => epoch + clock.now();
  const live: Live[] = [];
  const crashed = new Set<string>();

  /** Drives the virtual clock until `work` settles (bounded in virtual time). */
  const run = async <T>(work: Promise<T>, maxMs = 600_000): Promise<T> => {
    let settled = false;
    work.then(
      () => (settled = true),
      () => (settled = true),
    );
    const deadline = clock.now() + maxMs;
    while (!settled && clock.now() < deadline) await clock.run(10);
    return work;
  };

  const createNode = async (seeds: MccNode[]): Promise<Live> => {
    const transport = network.createTransport();
    const node = await MccNode.create({ transport, clock, wallClock, lan: false, bootstrap: seeds.map((seed) => seed.address) });
    return { node, transport };
  };
  const startNode = async (entry: Live): Promise<void> => {
    await entry.node.start();
    live.push(entry);
  };
  const crash = async (entry: Live): Promise<void> => {
    crashed.add(entry.node.idHex);
    await entry.transport.close();
    await entry.node.stop();
  };

  // The network: a first node, then batches joining through three random live nodes each.
  const joinCpu0 = cpuMs();
  const join0 = performance.now();
  await run(startNode(await createNode([])));
  while (live.length < n) {
    const count = Math.min(batch, n - live.length);
    const seeds = live.slice();
    const entries = await Promise.all(Array.from({ length: count }, () => createNode([pick(seeds).node, pick(seeds).node, pick(seeds).node])));
    await run(Promise.all(entries.map(startNode)));
    if (live.length % 1000 < batch)
      log(`joined ${live.length} nodes, ${Math.round((performance.now() - join0) / 1000)} s wall, rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB`);
  }
  // Services: registered by distinct random nodes, all at once.
  const providers = new Map<string, string[]>();
  const registrations: Array<Promise<unknown>> = [];
  for (let s = 0; s < serviceCount; s++) {
    const name = `svc-${s}`;
    const ids: string[] = [];
    for (let p = 0; p < perService; p++) {
      const entry = pick(live);
      ids.push(entry.node.idHex);
      registrations.push(entry.node.register(name, { handler: (stream) => stream.end() }).catch(() => undefined));
    }
    providers.set(name, ids);
  }
  await run(Promise.all(registrations));
  const joinWallMs = performance.now() - join0;
  const joinCpuMs = cpuMs() - joinCpu0;
  const heapPerNodeKbJoined = await heapPerNodeKb(live.length);
  log(`network built: ${live.length} nodes, ${serviceCount} services, ${Math.round(joinWallMs / 1000)} s wall, heap ${heapPerNodeKbJoined.toFixed(1)} KB/node`);

  // The hour: each minute, churn, then a round of lookups from distinct random nodes, then the rest of the minute.
  const hourCpu0 = cpuMs();
  const hour0 = performance.now();
  const sent0 = network.stats.sent;
  const progressEvery = options.progressEvery ?? 10;
  let progressSent = sent0;
  const names = [...providers.keys()];
  const roundTrips: number[] = [];
  const requests: number[] = [];
  let lookups = 0;
  let lookupSuccess = 0;
  let liveProviders = 0;
  let liveProvidersFound = 0;
  let staleProviders = 0;
  let replaced = 0;
  let nodeMinutes = 0;
  for (let minute = 0; minute < minutes; minute++) {
    const minuteStart = clock.now();
    const leaving = Math.round(live.length * churn);
    const crashes: Array<Promise<void>> = [];
    for (let i = 0; i < leaving; i++) crashes.push(crash(live.splice(Math.floor(random() * live.length), 1)[0]));
    const joining = await Promise.all(Array.from({ length: leaving }, () => createNode([pick(live).node, pick(live).node, pick(live).node])));
    await run(Promise.all([...crashes, ...joining.map(startNode)]));
    replaced += leaving;

    const lookers = new Set<Live>();
    while (lookers.size < Math.min(lookupsPerMinute, live.length)) lookers.add(pick(live));
    const round = [...lookers].map(async (entry) => {
      let name = pick(names);
      for (let tries = 0; tries < 20 && providers.get(name)!.every((id) => crashed.has(id)); tries++) name = pick(names);
      const expected = providers.get(name)!.filter((id) => !crashed.has(id));
      if (expected.length === 0) return;
      const before = entry.node.stats().rpc.sent;
      const started = clock.now();
      const found = await entry.node.lookup(name, { fresh: true }).catch(() => []);
      roundTrips.push((clock.now() - started) / rttMs);
      requests.push(entry.node.stats().rpc.sent - before);
      const ids = new Set(found.map((provider) => provider.id));
      lookups++;
      const hits = expected.filter((id) => ids.has(id)).length;
      if (hits > 0) lookupSuccess++;
      liveProviders += expected.length;
      liveProvidersFound += hits;
      staleProviders += [...ids].filter((id) => crashed.has(id)).length;
    });
    await run(Promise.all(round));
    const rest = minuteStart + 60_000 - clock.now();
    if (rest > 0) await clock.run(rest);
    nodeMinutes += live.length;
    if ((minute + 1) % progressEvery === 0) {
      const memory = process.memoryUsage();
      const datagrams = network.stats.sent - progressSent;
      progressSent = network.stats.sent;
      log(
        `minute ${minute + 1}: ${lookupSuccess}/${lookups} lookups found a live provider, ${Math.round((performance.now() - hour0) / 1000)} s wall, ` +
          `${Math.round((cpuMs() - hourCpu0) / 1000)} s CPU, ${(datagrams / progressEvery / live.length).toFixed(1)} datagrams per node-minute, ` +
          `heap ${Math.round(memory.heapUsed / 2 ** 20)} MB, rss ${Math.round(memory.rss / 2 ** 20)} MB`,
      );
    }
  }
  const hourWallMs = performance.now() - hour0;
  const hourCpuMs = cpuMs() - hourCpu0;
  const datagrams = network.stats.sent - sent0;
  const heapPerNodeKbEnd = await heapPerNodeKb(live.length);
  const buffersPerNodeKbEnd = process.memoryUsage().arrayBuffers / live.length / 1024;
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  roundTrips.sort((a, b) => a - b);
  requests.sort((a, b) => a - b);
  await run(Promise.all(live.map((entry) => entry.node.stop())), 120_000);
  return {
    nodes: n,
    minutes,
    joinWallMs,
    joinCpuMs,
    hourWallMs,
    hourCpuMs,
    replaced,
    lookups,
    lookupSuccess,
    liveProviders,
    liveProvidersFound,
    staleProviders,
    roundTripsMedian: quantile(roundTrips, 0.5),
    roundTripsP99: quantile(roundTrips, 0.99),
    requestsMedian: quantile(requests, 0.5),
    requestsP99: quantile(requests, 0.99),
    datagramsPerNodeMinute: datagrams / nodeMinutes,
    heapPerNodeKbJoined,
    heapPerNodeKbEnd,
    buffersPerNodeKbEnd,
    rssMb,
  };
}
