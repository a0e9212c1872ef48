/**
 * Tunnel throughput and latency on loopback, against raw TCP in the same run.
 *
 *   node --import tsx bench/tunnel.ts [--mb 32] [--suites node,sodium] [--only tunnel|hyperdht|TCP|processes] [--verbose]
 *
 * Three transports, each with both ends in this process, so figures are for one JS
 * thread doing both sides' work, then the two encrypted ones again with the server
 * end in a child process (bench/tunnel-peer.ts), one thread per end as real peers
 * run: raw TCP, a hyperdht encrypted stream (two nodes of
 * a local testnet on 127.0.0.1; 8 parallel streams are 8 connections, as hyperdht
 * has no multiplexing), and the mcc tunnel (8 streams over one connection). Prints
 * bulk throughput of one stream and of 8 parallel streams, the median 1-byte echo
 * round trip, CPU time per GB moved (process.cpuUsage of both ends, all threads), and
 * the tunnel/hyperdht and tunnel/TCP ratios. `--verbose` prints the tunnel's
 * connection counters after each phase. The echo runs last, for every transport at once:
 * the same await-per-round loop on the same Duplex API (bench/tunnel-endpoints.ts), a
 * warm-up per transport, then interleaved blocks, so the ratios compare like with like
 * (bench/tunnel-echo.ts runs the echo alone, with more detail).
 *
 * The tunnel rows run once per crypto suite of `--suites` (default `node,sodium`; `sodium` is
 * src/crypto/sodium-suite.ts and needs the optional sodium-native).
 * Last, a breakdown per tunnel row of the CPU per data datagram (both ends, 1-stream run)
 * into AEAD, socket, engine and the I/O layer, from floors measured in this run
 * (bench/tunnel-breakdown.ts), so a regression shows where it is.
 */

import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { hyperdhtEndpoint, hyperdhtRemoteEndpoint } from './tunnel-hyperdht.js';
import { interleavedEcho, openEcho, tcpEndpoint, tunnelEndpoint, tunnelRemoteEndpoint, type Endpoint } from './tunnel-endpoints.js';
import { aeadMicros, breakdownCells, engineMicros, socketMicros } from './tunnel-breakdown.js';
import { serve, startChildPeer } from './tunnel-peer.js';
import { benchSuite, type BenchSuiteName } from './tunnel-suite.js';
import { median, printTable } from './util.js';
import type { CryptoSuite } from '../src/crypto/index.js';

const MB = 1024 * 1024;
const argMb = process.argv.indexOf('--mb');
const TOTAL = (argMb > 0 ? Number(process.argv[argMb + 1]) : 32) * MB;
/** Echo: 2000 warm-up rounds per transport, then 4 interleaved blocks of 500 (2000 timed rounds each). */
const ECHO_WARM = 2000;
const ECHO_BLOCKS = 4;
const ECHO_BLOCK_ROUNDS = 500;
const ECHO_ROUNDS = ECHO_BLOCKS * ECHO_BLOCK_ROUNDS;
const CHUNK = Buffer.alloc(64 * 1024, 0xab);

/** Sends `bytes` one way through `stream` and waits for the sink's acknowledgement. */
async function sink(stream: Duplex, bytes: number): Promise<void> {
  const done = new Promise<void>((resolve, reject) => {
    stream.on('data', () => {});
    stream.once('end', resolve);
    stream.once('error', reject);
  });
  stream.write('S');
  for (let sent = 0; sent < bytes; sent += CHUNK.length) {
    if (!stream.write(CHUNK)) await once(stream, 'drain');
  }
  stream.end();
  await done;
}

interface Bulk {
  mbps: number;
  cpuMsPerGb: number;
  /** CPU µs (both ends) per data datagram the tunnel sent; NaN for the other transports. */
  cpuPerDatagram: number;
}

async function bulk(endpoint: Endpoint, streams: number): Promise<Bulk> {
  const opened = await Promise.all(Array.from({ length: streams }, () => endpoint.open()));
  const packetsBefore = endpoint.connection?.core.stats.packetsSent ?? 0;
  const remoteBefore = (await endpoint.remoteCpu?.()) ?? 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(opened.map((s) => sink(s, TOTAL / streams)));
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const remote = ((await endpoint.remoteCpu?.()) ?? 0) - remoteBefore;
  const cpuMicros = used.user + used.system + remote;
  const packets = (endpoint.connection?.core.stats.packetsSent ?? 0) - packetsBefore;
  return { mbps: TOTAL / MB / seconds, cpuMsPerGb: (cpuMicros / 1000) * (1024 / (TOTAL / MB)), cpuPerDatagram: packets > 0 ? cpuMicros / packets : Number.NaN };
}

/** With --verbose, the tunnel's connection counters after each phase. */
const verbose = process.argv.includes('--verbose');
function report(endpoint: Endpoint, phase: string): void {
  const connection = endpoint.connection;
  if (!verbose || connection === undefined) return;
  const { stats, cc, rtt } = connection.core;
  console.log(phase, JSON.stringify(stats), `cwnd ${(cc.window / 1024).toFixed(0)} KiB srtt ${rtt.smoothed.toFixed(3)} ms min ${rtt.min.toFixed(3)} ms`);
}

/** Bulk figures; the endpoint stays open for the interleaved echo phase. */
async function measure(name: string, make: () => Promise<Endpoint>, suite?: CryptoSuite) {
  const endpoint = await make();
  await bulk(endpoint, 1); // warm-up: JIT, windows
  report(endpoint, 'warm-up');
  const one = await bulk(endpoint, 1);
  report(endpoint, '1 stream');
  const eight = await bulk(endpoint, 8);
  report(endpoint, '8 streams');
  return { name, endpoint, one, eight, rtt: Number.NaN, suite };
}

type Result = Awaited<ReturnType<typeof measure>>;

const argSuites = process.argv.indexOf('--suites');
const suiteNames = (argSuites > 0 ? process.argv[argSuites + 1] : 'node,sodium').split(',') as BenchSuiteName[];
const suites = await Promise.all(suiteNames.map(async (name) => ({ name, suite: await benchSuite(name) })));
const argOnly = process.argv.indexOf('--only');
const only = argOnly > 0 ? process.argv[argOnly + 1] : undefined;

/** Row name of the tunnel with `suite`, in one or two processes. */
const tunnelRow = (suite: string, processes: 1 | 2): string => `mcc tunnel [${suite}]${processes === 2 ? ', 2 processes' : ''}`;
const REMOTE_HYPERDHT = 'hyperdht, 2 processes';
const makers: [string, () => Promise<Endpoint>, CryptoSuite?][] = [
  ['raw TCP', tcpEndpoint],
  ['hyperdht', () => hyperdhtEndpoint(serve)],
  ...suites.map(({ suite }): [string, () => Promise<Endpoint>, CryptoSuite] => [tunnelRow(suite.name, 1), () => tunnelEndpoint(suite), suite]),
  [REMOTE_HYPERDHT, async () => hyperdhtRemoteEndpoint(await startChildPeer())],
  ...suites.map(({ name, suite }): [string, () => Promise<Endpoint>, CryptoSuite] => [
    tunnelRow(suite.name, 2),
    () => tunnelRemoteEndpoint(suite, name),
    suite,
  ]),
];
const results: Record<string, Result> = {};
for (const [name, make, suite] of makers) {
  if (only === undefined || name.includes(only)) results[name] = await measure(name, make, suite);
}
// Echo last, all transports interleaved in blocks (same loop, same rounds, each after its
// own warm-up), so a burst of load from elsewhere on the machine hits them alike.
const measured = Object.values(results);
const echoStreams: Duplex[] = await Promise.all(measured.map((r) => openEcho(r.endpoint)));
const { samples } = await interleavedEcho(echoStreams, { warm: ECHO_WARM, blocks: ECHO_BLOCKS, rounds: ECHO_BLOCK_ROUNDS, mode: 'await' });
measured.forEach((r, i) => {
  r.rtt = median(samples[i]);
  report(r.endpoint, 'echo');
});
for (const stream of echoStreams) stream.end();
for (const r of measured) await r.endpoint.close();

console.log(
  `loopback, ${TOTAL / MB} MB per bulk run, ${ECHO_ROUNDS} echo rounds (interleaved across transports); rows without "2 processes" run both ends on one JS thread; CPU counts both ends`,
);
printTable(
  ['transport', '1 stream MB/s', '8 streams MB/s', 'echo RTT µs (median)', 'CPU ms/GB (1 stream)', 'CPU ms/GB (8 streams)'],
  measured.map((r) => [r.name, r.one.mbps.toFixed(1), r.eight.mbps.toFixed(1), r.rtt.toFixed(0), r.one.cpuMsPerGb.toFixed(0), r.eight.cpuMsPerGb.toFixed(0)]),
);
function ratio(tunnel: Result | undefined, other: Result | undefined): void {
  if (tunnel === undefined || other === undefined) return;
  console.log(
    `${tunnel.name} / ${other.name}: 1 stream ${(tunnel.one.mbps / other.one.mbps).toFixed(2)}x, 8 streams ${(tunnel.eight.mbps / other.eight.mbps).toFixed(2)}x, ` +
      `echo RTT ${(tunnel.rtt / other.rtt).toFixed(2)}x, CPU/GB ${(tunnel.one.cpuMsPerGb / other.one.cpuMsPerGb).toFixed(2)}x`,
  );
}
for (const { suite } of suites) {
  ratio(results[tunnelRow(suite.name, 1)], results.hyperdht);
  ratio(results[tunnelRow(suite.name, 2)], results[REMOTE_HYPERDHT]);
  ratio(results[tunnelRow(suite.name, 1)], results['raw TCP']);
  ratio(results[tunnelRow(suite.name, 2)], results['raw TCP']);
}

// Where the CPU of a data datagram goes (1-stream run, both ends), against floors measured now.
const tunnels = measured.filter((r) => r.suite !== undefined && Number.isFinite(r.one.cpuPerDatagram));
if (tunnels.length > 0) {
  const socket = await socketMicros();
  const engine = engineMicros();
  const aead = new Map<string, number>();
  for (const r of tunnels) if (!aead.has(r.suite!.name)) aead.set(r.suite!.name, aeadMicros(r.suite!));
  console.log('\nCPU µs per data datagram (both ends, 1-stream run): measured total, floors measured in this run, and the rest (I/O layer)');
  printTable(
    ['transport', 'total', 'AEAD seal+open', 'socket send+recv', 'engine (no AEAD)', 'I/O layer (rest)'],
    tunnels.map((r) => [r.name, ...breakdownCells({ totalMicros: r.one.cpuPerDatagram, aead: aead.get(r.suite!.name)!, socket, engine })]),
  );
}
