/**
 * Tunnel throughput and latency on loopback, against raw TCP in the same run.
 *
 *   node --import tsx bench/tunnel.ts [--mb 32] [--only tunnel|hyperdht|TCP|processes] [--verbose]
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
 */

import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { hyperdhtEndpoint, hyperdhtRemoteEndpoint } from './tunnel-hyperdht.js';
import { interleavedEcho, openEcho, tcpEndpoint, tunnelEndpoint, tunnelRemoteEndpoint, type Endpoint } from './tunnel-endpoints.js';
import { serve, startChildPeer } from './tunnel-peer.js';
import { median, printTable } from './util.js';

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

async function bulk(endpoint: Endpoint, streams: number): Promise<{ mbps: number; cpuMsPerGb: number }> {
  const opened = await Promise.all(Array.from({ length: streams }, () => endpoint.open()));
  const remoteBefore = (await endpoint.remoteCpu?.()) ?? 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(opened.map((s) => sink(s, TOTAL / streams)));
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const remote = ((await endpoint.remoteCpu?.()) ?? 0) - remoteBefore;
  return { mbps: TOTAL / MB / seconds, cpuMsPerGb: ((used.user + used.system + remote) / 1000) * (1024 / (TOTAL / MB)) };
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
async function measure(name: string, make: () => Promise<Endpoint>) {
  const endpoint = await make();
  await bulk(endpoint, 1); // warm-up: JIT, windows
  report(endpoint, 'warm-up');
  const one = await bulk(endpoint, 1);
  report(endpoint, '1 stream');
  const eight = await bulk(endpoint, 8);
  report(endpoint, '8 streams');
  return { name, endpoint, one, eight, rtt: Number.NaN };
}

type Result = Awaited<ReturnType<typeof measure>>;

const REMOTE_HYPERDHT = 'hyperdht, 2 processes';
const REMOTE_TUNNEL = 'mcc tunnel, 2 processes';
const argOnly = process.argv.indexOf('--only');
const only = argOnly > 0 ? process.argv[argOnly + 1] : undefined;
const makers: Record<string, () => Promise<Endpoint>> = {
  'raw TCP': tcpEndpoint,
  hyperdht: () => hyperdhtEndpoint(serve),
  'mcc tunnel': tunnelEndpoint,
  [REMOTE_HYPERDHT]: async () => hyperdhtRemoteEndpoint(await startChildPeer()),
  [REMOTE_TUNNEL]: tunnelRemoteEndpoint,
};
const results: Record<string, Result> = {};
for (const [name, make] of Object.entries(makers)) {
  if (only === undefined || name.includes(only)) results[name] = await measure(name, make);
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
  Object.values(results).map((r) => [
    r.name,
    r.one.mbps.toFixed(1),
    r.eight.mbps.toFixed(1),
    r.rtt.toFixed(0),
    r.one.cpuMsPerGb.toFixed(0),
    r.eight.cpuMsPerGb.toFixed(0),
  ]),
);
function ratio(tunnel: Result | undefined, other: Result | undefined): void {
  if (tunnel === undefined || other === undefined) return;
  console.log(
    `${tunnel.name} / ${other.name}: 1 stream ${(tunnel.one.mbps / other.one.mbps).toFixed(2)}x, 8 streams ${(tunnel.eight.mbps / other.eight.mbps).toFixed(2)}x, ` +
      `echo RTT ${(tunnel.rtt / other.rtt).toFixed(2)}x, CPU/GB ${(tunnel.one.cpuMsPerGb / other.one.cpuMsPerGb).toFixed(2)}x`,
  );
}
ratio(results['mcc tunnel'], results.hyperdht);
ratio(results['mcc tunnel'], results['raw TCP']);
ratio(results[REMOTE_TUNNEL], results[REMOTE_HYPERDHT]);
ratio(results[REMOTE_TUNNEL], results['raw TCP']);
