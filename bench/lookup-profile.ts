/**
 * Profiling harness of the lookup phase only (issue 4): builds N mcc-mesh nodes on real UDP
 * loopback (as bench/lookup-hyperdht.ts does), then runs LOOKUPS lookups under the V8 CPU
 * profiler (node:inspector), so the join does not dilute the profile. Prints the join cost,
 * the lookup figures and the top self-time functions; writes the profile to PROFILE when set
 * (open it in Chrome DevTools or speedscope).
 *
 *   MCC_BENCH_N=100 MCC_BENCH_LOOKUPS=200 node --import tsx bench/lookup-profile.ts
 *
 * Env: MCC_BENCH_N (default 100), MCC_BENCH_LOOKUPS (default 200), MCC_BENCH_TOP (default 25),
 * MCC_BENCH_PROFILE=0 to skip the profiler (plain timing), MCC_BENCH_PROFILE=join to profile the joins
 * instead of the lookups, PROFILE=path.cpuprofile to keep it.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { MccNode } from '../src/index.js';
import { loadCryptoSuite, type CryptoSuite, type CryptoSuiteName } from '../src/crypto/index.js';
import { median, percentile, printTable } from './util.js';

const N = Number(process.env.MCC_BENCH_N ?? 100);
const LOOKUPS = Number(process.env.MCC_BENCH_LOOKUPS ?? 200);
const TOP = Number(process.env.MCC_BENCH_TOP ?? 25);
const PROFILE = process.env.MCC_BENCH_PROFILE !== '0';
/** MCC_BENCH_PROFILE=join profiles the N joins instead of the lookups. */
const PROFILE_JOIN = process.env.MCC_BENCH_PROFILE === 'join';
const JOIN_BATCH = 4;
/** Suite of every mcc-mesh node (MCC_BENCH_CRYPTO): `node` by default, so no native code. */
const SUITE_NAME = (process.env.MCC_BENCH_CRYPTO ?? 'node') as CryptoSuiteName;

/** Key agreements and key derivations of every node, counted: how many first contacts a lookup costs. */
const counts = { x25519: 0, hkdf: 0 };
const base = await loadCryptoSuite(SUITE_NAME);
// The suites are frozen objects of own properties: a spread copy can be overridden.
const SUITE: CryptoSuite = Object.freeze({
  ...base,
  x25519: (secret: Uint8Array, publicKey: Uint8Array) => {
    counts.x25519++;
    return base.x25519(secret, publicKey);
  },
  hkdf: (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number) => {
    counts.hkdf++;
    return base.hkdf(ikm, salt, info, length);
  },
});

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}

const session = new Session();
async function startProfiler(): Promise<void> {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
}
if (PROFILE_JOIN) await startProfiler();

const t0 = performance.now();
const joinCpu = process.cpuUsage();
const first = await MccNode.create({ host: '127.0.0.1', crypto: SUITE });
await first.start();
const nodes = [first];
let joinRequests = 0;
for (let i = 1; i < N; i += JOIN_BATCH) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(JOIN_BATCH, N - i) }, () => MccNode.create({ host: '127.0.0.1', bootstrap: [first.address], crypto: SUITE })),
  );
  await Promise.all(batch.map((node) => node.start()));
  for (const node of batch) joinRequests += node.kad.stats.queries;
  nodes.push(...batch);
}
const joinS = (performance.now() - t0) / 1000;
const joinUsed = process.cpuUsage(joinCpu);

if (PROFILE && !PROFILE_JOIN) await startProfiler();
const cpu = process.cpuUsage();
const joinCounts = { ...counts };
counts.x25519 = 0;
counts.hkdf = 0;
const ms: number[] = [];
const messages: number[] = [];
const queriesBefore = nodes.reduce((sum, node) => sum + node.kad.stats.queries, 0);
const datagramsBefore = nodes.reduce((sum, node) => sum + node.stats().datagramsOut, 0);
for (let i = 0; i < LOOKUPS; i++) {
  const node = nodes[(i * 7) % nodes.length];
  const start = performance.now();
  const result = await node.kad.lookup(randomBytes(32));
  ms.push(performance.now() - start);
  messages.push(result.queries);
}
const used = process.cpuUsage(cpu);
const queriesAll = nodes.reduce((sum, node) => sum + node.kad.stats.queries, 0) - queriesBefore;
const datagramsAll = nodes.reduce((sum, node) => sum + node.stats().datagramsOut, 0) - datagramsBefore;
const drops = nodes.reduce<Record<string, number>>((all, node) => {
  for (const [reason, count] of Object.entries(node.stats().dropped ?? {})) all[reason] = (all[reason] ?? 0) + count;
  return all;
}, {});
const amplificationLimited = nodes.reduce((sum, node) => sum + node.stats().amplificationLimited, 0);
let profile: { nodes: ProfileNode[]; samples: number[] } | undefined;
if (PROFILE) {
  profile = (await session.post('Profiler.stop')).profile as unknown as { nodes: ProfileNode[]; samples: number[] };
  session.disconnect();
}
await Promise.all(nodes.map((node) => node.stop()));

console.log(
  `\nN = ${N}, join ${joinS.toFixed(1)} s wall, ${((joinUsed.user + joinUsed.system) / 1000 / (N - 1)).toFixed(1)} ms CPU and ${(joinRequests / (N - 1)).toFixed(0)} requests per join`,
);
console.log(
  `lookups: ${LOOKUPS}, median ${median(ms).toFixed(2)} ms, p90 ${percentile(ms, 90).toFixed(2)} ms, messages median ${median(messages)} (mean ${(messages.reduce((a, b) => a + b, 0) / LOOKUPS).toFixed(1)}), ` +
    `all queries ${(queriesAll / LOOKUPS).toFixed(1)} and datagrams ${(datagramsAll / LOOKUPS).toFixed(1)} per lookup, CPU ${((used.user + used.system) / 1000 / LOOKUPS).toFixed(2)} ms per lookup${PROFILE ? ' (profiled)' : ''}`,
);

console.log(
  `key agreements (X25519, both ends counted): ${(joinCounts.x25519 / (N - 1)).toFixed(1)} per join, ${(counts.x25519 / LOOKUPS).toFixed(1)} per lookup; ` +
    `HKDFs ${(joinCounts.hkdf / (N - 1)).toFixed(1)} per join, ${(counts.hkdf / LOOKUPS).toFixed(1)} per lookup; suite ${base.name}`,
);
console.log(`since start: cookie answers (amplification-limited) ${amplificationLimited}, drops ${JSON.stringify(drops)}`);

if (profile) {
  if (process.env.PROFILE) writeFileSync(process.env.PROFILE, JSON.stringify(profile));
  const total = profile.nodes.reduce((sum, node) => sum + node.hitCount, 0);
  const self = new Map<string, number>();
  for (const node of profile.nodes) {
    const frame = node.callFrame;
    const file = frame.url.replace(/^.*\/(node_modules\/|src\/)/, '$1');
    const name = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + node.hitCount);
  }
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  printTable(
    ['function (self time)', 'share'],
    rows.map(([name, hits]) => [name.slice(0, 110), `${((100 * hits) / total).toFixed(1)}%`]),
  );
  // Inclusive time: each sample counts once for every distinct function on its stack.
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const label = (node: ProfileNode) => `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.replace(/^.*\/(node_modules\/|src\/)/, '$1')}`;
  const inclusive = new Map<string, number>();
  for (const node of profile.nodes) {
    if (node.hitCount === 0) continue;
    const seen = new Set<string>();
    for (let at: ProfileNode | undefined = node; at; at = byId.get(parent.get(at.id) ?? -1)) seen.add(label(at));
    for (const name of seen) inclusive.set(name, (inclusive.get(name) ?? 0) + node.hitCount);
  }
  const top = [...inclusive.entries()]
    .filter(([name]) => /src\/|node_modules/.test(name))
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP);
  printTable(
    ['function (inclusive time)', 'share'],
    top.map(([name, hits]) => [name.slice(0, 110), `${((100 * hits) / total).toFixed(1)}%`]),
  );
}
