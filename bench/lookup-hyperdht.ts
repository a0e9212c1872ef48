/**
 * mcc-mesh against hyperdht (Hyperswarm's DHT) side by side, in one process on loopback
 * with real UDP, N = 200 nodes of each (issue 4's yardstick). Each side is built, measured
 * and torn down in turn, so neither runs while the other is measured.
 *
 *   mcc-mesh: MccNode.create({ host: '127.0.0.1', crypto: SUITE }), all bootstrapped through the first;
 *             lookups are node.kad.lookup(random target); reads are node.dht.get of
 *             immutable values stored with node.dht.put.
 *   hyperdht: hyperdht/testnet (bootstrap node and peers bound to 127.0.0.1, no public
 *             bootstrap); lookups are findPeer(random key) run to completion; reads are
 *             immutableGet of values stored with immutablePut.
 *
 * Time is wall clock around each call; messages are the requests the querying node sent
 * (mcc-mesh: the lookup's queries; hyperdht: its RPC request counter, which also sees the
 * node's little background traffic during the call). LOOKUPS run CONCURRENCY at a time
 * each from a different node. hyperdht is a dev dependency used here only (never in src/).
 * Run: node --import tsx bench/lookup-hyperdht.ts
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { MccNode } from '../src/index.js';
import type { CryptoSuiteName } from '../src/crypto/index.js';
import { median, percentile, printTable } from './util.js';

const require = createRequire(import.meta.url);
// CommonJS and untyped: loaded through require so nothing in src/ (or its types) depends on it.
const createTestnet = require('hyperdht/testnet.js') as (size: number, opts: { host: string }) => Promise<HyperTestnet>;

interface HyperQuery {
  finished(): Promise<void>;
  [Symbol.asyncIterator](): AsyncIterator<unknown>;
}
interface HyperNode {
  findPeer(publicKey: Uint8Array): HyperQuery;
  immutablePut(value: Uint8Array): Promise<{ hash: Uint8Array }>;
  immutableGet(hash: Uint8Array): Promise<{ value: Uint8Array } | null>;
  stats: { requests: { total: number } };
  address(): { host: string; port: number };
}
interface HyperTestnet {
  nodes: HyperNode[];
  destroy(): Promise<void>;
}

const N = Number(process.env.MCC_BENCH_N ?? 200);
const LOOKUPS = Number(process.env.MCC_BENCH_LOOKUPS ?? 200);
const GETS = 100;
const VALUES = 10;
const CONCURRENCY = Number(process.env.MCC_BENCH_CONCURRENCY ?? 1);
const JOIN_BATCH = 4;
/** Suite of every mcc-mesh node (MCC_BENCH_CRYPTO): `node` by default, so no native code. */
const SUITE = (process.env.MCC_BENCH_CRYPTO ?? 'node') as CryptoSuiteName;

interface Sample {
  ms: number;
  messages: number;
}

/** Runs `count` operations, `CONCURRENCY` at a time, operation i on node i mod nodes. */
async function measure(count: number, run: (i: number) => Promise<Sample>): Promise<Sample[] & { cpuMs: number }> {
  const samples: Sample[] = [];
  let next = 0;
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) samples.push(await run(next++));
    }),
  );
  const used = process.cpuUsage(cpu);
  return Object.assign(samples, { cpuMs: (used.user + used.system) / 1000 / count });
}

function summary(samples: Sample[] & { cpuMs: number }) {
  const ms = samples.map((s) => s.ms);
  const messages = samples.map((s) => s.messages);
  return {
    median: median(ms),
    p90: percentile(ms, 90),
    messages: median(messages),
    meanMessages: messages.reduce((a, b) => a + b, 0) / messages.length,
    cpuMs: samples.cpuMs,
  };
}

async function benchMcc() {
  const t0 = performance.now();
  const first = await MccNode.create({ host: '127.0.0.1', crypto: SUITE });
  await first.start();
  const nodes = [first];
  // Joins a few at a time: all nodes share this process's one CPU, as hyperdht's testnet joins one by one.
  for (let i = 1; i < N; i += JOIN_BATCH) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(JOIN_BATCH, N - i) }, () => MccNode.create({ host: '127.0.0.1', bootstrap: [first.address], crypto: SUITE })),
    );
    await Promise.all(batch.map((node) => node.start()));
    nodes.push(...batch);
  }
  const setupS = (performance.now() - t0) / 1000;
  for (const node of nodes) if (node.address.host !== '127.0.0.1') throw new Error(`mcc node bound to ${node.address.host}`);
  const lookups = await measure(LOOKUPS, async (i) => {
    const node = nodes[(i * 7) % nodes.length];
    const start = performance.now();
    const result = await node.kad.lookup(randomBytes(32));
    return { ms: performance.now() - start, messages: result.queries };
  });
  const keys: Uint8Array[] = [];
  for (let i = 0; i < VALUES; i++) keys.push((await nodes[(i * 13) % nodes.length].dht.put(randomBytes(100))).key);
  let found = 0;
  const gets = await measure(GETS, async (i) => {
    const node = nodes[(i * 11 + 3) % nodes.length];
    const before = node.kad.stats.queries;
    const start = performance.now();
    if ((await node.dht.get(keys[i % keys.length])) !== null) found++;
    return { ms: performance.now() - start, messages: node.kad.stats.queries - before };
  });
  await Promise.all(nodes.map((node) => node.stop()));
  return { setupS, lookups: summary(lookups), gets: summary(gets), found };
}

async function benchHyper() {
  const t0 = performance.now();
  const testnet = await createTestnet(N, { host: '127.0.0.1' });
  const setupS = (performance.now() - t0) / 1000;
  const nodes = testnet.nodes;
  for (const node of nodes) if (node.address().host !== '127.0.0.1') throw new Error(`hyperdht node bound to ${node.address().host}`);
  try {
    const lookups = await measure(LOOKUPS, async (i) => {
      const node = nodes[(i * 7) % nodes.length];
      const before = node.stats.requests.total;
      const start = performance.now();
      await node.findPeer(randomBytes(32)).finished();
      return { ms: performance.now() - start, messages: node.stats.requests.total - before };
    });
    const keys: Uint8Array[] = [];
    for (let i = 0; i < VALUES; i++) keys.push((await nodes[(i * 13) % nodes.length].immutablePut(randomBytes(100))).hash);
    let found = 0;
    const gets = await measure(GETS, async (i) => {
      const node = nodes[(i * 11 + 3) % nodes.length];
      const before = node.stats.requests.total;
      const start = performance.now();
      if ((await node.immutableGet(keys[i % keys.length])) !== null) found++;
      return { ms: performance.now() - start, messages: node.stats.requests.total - before };
    });
    return { setupS, lookups: summary(lookups), gets: summary(gets), found };
  } finally {
    await testnet.destroy();
  }
}

const started = performance.now();
const mcc = await benchMcc();
const hyper = await benchHyper();
const ratio = (a: number, b: number) => (a / b).toFixed(2);
const row = (name: string, m: ReturnType<typeof summary>, h: ReturnType<typeof summary>) => [
  name,
  m.median.toFixed(1),
  h.median.toFixed(1),
  ratio(m.median, h.median),
  m.p90.toFixed(1),
  h.p90.toFixed(1),
  ratio(m.p90, h.p90),
  `${m.messages} (${m.meanMessages.toFixed(1)})`,
  `${h.messages} (${h.meanMessages.toFixed(1)})`,
  ratio(m.meanMessages, h.meanMessages),
  m.cpuMs.toFixed(1),
  h.cpuMs.toFixed(1),
];
console.log(
  `\nmcc-mesh vs hyperdht, N = ${N} nodes each, loopback UDP, one process; ${LOOKUPS} lookups / ${GETS} gets, ${CONCURRENCY} at a time (ratio = mcc / hyperdht, lower is better for mcc)`,
);
printTable(
  [
    'operation',
    'mcc median ms',
    'hyper median ms',
    'ratio',
    'mcc p90 ms',
    'hyper p90 ms',
    'ratio',
    'mcc msgs median (mean)',
    'hyper msgs median (mean)',
    'msgs ratio (mean)',
    'mcc CPU ms/op',
    'hyper CPU ms/op',
  ],
  [row('lookup (random target)', mcc.lookups, hyper.lookups), row('get (immutable value)', mcc.gets, hyper.gets)],
);
console.log(
  `\nsetup: mcc ${mcc.setupS.toFixed(1)} s, hyperdht ${hyper.setupS.toFixed(1)} s; values found: mcc ${mcc.found}/${GETS}, hyperdht ${hyper.found}/${GETS}; wall ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
