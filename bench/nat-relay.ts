/**
 * Relayed tunnel throughput as a share of direct, real UDP on loopback: one stream
 * client -> provider, either straight or through a relay node running in its own process
 * (as it would on its own machine; in one process it would share the event loop with both
 * ends and measure CPU contention, not relaying). Direct and relayed transfers alternate
 * (ABBA order, so a drift in machine load hits both alike); every round is printed, then
 * the medians and the spread of the per-round shares. "ends waiting for a CPU" is the share of
 * the transfer the ends' main thread was runnable but not running (Linux schedstat): on a machine
 * with few busy cores, the relay process's CPU comes out of the ends' time, which no change at the
 * ends can win back.
 *
 * Run: node --import tsx bench/nat-relay.ts
 * Env: NAT_RELAY_BYTES (per transfer, default 16e6), NAT_RELAY_ROUNDS (default 6),
 *      NAT_RELAY_PROF=DIR: the relay process writes a CPU profile into DIR;
 *      NAT_RELAY_PROF_ENDS=DIR: the ends' process writes one CPU profile per counted transfer
 *      into DIR (`direct-<round>.cpuprofile`, `relayed-<round>.cpuprofile`), to compare the two paths.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Duplex } from 'node:stream';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MccNode } from '../src/index.js';
import { median, percentile, printTable } from './util.js';

const BYTES = Number(process.env.NAT_RELAY_BYTES ?? 16e6);
const ROUNDS = Number(process.env.NAT_RELAY_ROUNDS ?? 6);
const PROF_ENDS = process.env.NAT_RELAY_PROF_ENDS;

let profiler: Session | undefined;

/**
 * The main thread's time on a CPU and waiting for one (ns, Linux schedstat; zeros elsewhere).
 * Waiting time is what the relay process, on a machine with few cores, takes from the ends.
 */
function mainThreadSchedule(): { onCpu: number; waiting: number } {
  try {
    const [onCpu, waiting] = readFileSync('/proc/thread-self/schedstat', 'utf8').trim().split(' ').map(Number);
    return { onCpu: onCpu ?? 0, waiting: waiting ?? 0 };
  } catch {
    return { onCpu: 0, waiting: 0 };
  }
}

/** Runs `transfer` under the CPU profiler when NAT_RELAY_PROF_ENDS is set, writing `<name>.cpuprofile`. */
async function profiled<T>(name: string, transfer: () => Promise<T>): Promise<T> {
  if (!PROF_ENDS) return transfer();
  if (!profiler) {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
  }
  await profiler.post('Profiler.start');
  try {
    return await transfer();
  } finally {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(join(PROF_ENDS, `${name}.cpuprofile`), JSON.stringify(profile));
  }
}

/** One transfer: MB/s, the share of one core the ends' process used meanwhile, and tunnel frames declared lost. */
interface Transfer {
  mbps: number;
  endsCpu: number;
  /** Share of the transfer's wall time the ends' main thread was runnable but waited for a CPU. */
  endsWaiting: number;
  lost: number;
  /** The client's congestion window (KiB) and smoothed / minimum RTT (ms) at the end. */
  windowKiB: number;
  srttMs: number;
  minRttMs: number;
}

/** One stream client -> provider, `bytes` long, timed until the provider's end comes back. */
async function streamThroughput(client: MccNode, service: string, bytes: number): Promise<Transfer> {
  const stream = await client.connect(service);
  const [provider] = await client.lookup(service);
  const core = provider ? client.tunnels.connectionTo(provider.nodeId)?.core : undefined;
  const lostBefore = core?.stats.framesLost ?? 0;
  const chunk = Buffer.alloc(64 * 1024, 7);
  const cpu = process.cpuUsage();
  const schedule = mainThreadSchedule();
  const started = performance.now();
  const done = new Promise<void>((resolve, reject) => {
    stream.on('data', () => {});
    stream.once('end', () => resolve());
    stream.once('error', reject);
  });
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    if (!stream.write(chunk)) await new Promise((resolve) => stream.once('drain', resolve));
  }
  stream.end();
  await done;
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return {
    mbps: bytes / 1e6 / (ms / 1000),
    endsCpu: (used.user + used.system) / 1000 / ms,
    endsWaiting: (mainThreadSchedule().waiting - schedule.waiting) / 1e6 / ms,
    lost: (core?.stats.framesLost ?? 0) - lostBefore,
    windowKiB: (core?.cc.window ?? 0) / 1024,
    srttMs: core?.rtt.smoothed ?? 0,
    minRttMs: core?.rtt.min ?? 0,
  };
}

interface RelayCounters {
  bytes: number;
  packets: number;
  cpuMs: number;
}

interface RelayProcess {
  id: Uint8Array;
  address: { host: string; port: number };
  /** Bytes and datagrams the relay forwarded so far, and the relay process's CPU time (ms). */
  forwarded: () => Promise<RelayCounters>;
  stop: () => Promise<void>;
}

async function startRelayProcess(): Promise<RelayProcess> {
  const profile = process.env.NAT_RELAY_PROF;
  const flags = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: { ...process.env, NAT_RELAY_ROLE: 'relay' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout });
  const waiters: Array<(line: string) => void> = [];
  lines.on('line', (line) => waiters.shift()?.(line));
  const next = (): Promise<Record<string, unknown>> => new Promise((resolve) => waiters.push((line) => resolve(JSON.parse(line) as Record<string, unknown>)));
  const ready = (await next()) as { id: string; address: { host: string; port: number } };
  return {
    id: new Uint8Array(Buffer.from(ready.id, 'hex')),
    address: ready.address,
    forwarded: async () => {
      const answer = next();
      child.stdin.write('stats\n');
      return (await answer) as unknown as RelayCounters;
    },
    stop: async () => {
      child.stdin.end();
      await exited;
    },
  };
}

/** The relay role: a public node whose per-circuit budget (default 4 MiB/s) is lifted to measure the forwarding path itself. */
async function relayRole(): Promise<void> {
  const relay = await MccNode.create({ host: '127.0.0.1', relay: { bytesPerSecond: 1e10, burstBytes: 1e9 } });
  await relay.start();
  console.log(JSON.stringify({ id: relay.idHex, address: relay.address }));
  const input = createInterface({ input: process.stdin });
  input.on('line', () => {
    const { forwardedBytes, forwardedPackets } = relay.stats().nat.relayServer;
    const cpu = process.cpuUsage();
    console.log(JSON.stringify({ bytes: forwardedBytes, packets: forwardedPackets, cpuMs: (cpu.user + cpu.system) / 1000 }));
  });
  input.once('close', () => void relay.stop().then(() => process.exit(0)));
}

async function main(): Promise<void> {
  const started = performance.now();
  const nodes: MccNode[] = [];
  const relay = await startRelayProcess();
  const start = async (options: Parameters<typeof MccNode.create>[0] = {}): Promise<MccNode> => {
    const node = await MccNode.create({ host: '127.0.0.1', bootstrap: [relay.address], ...options });
    await node.start();
    nodes.push(node);
    return node;
  };
  const direct: number[] = [];
  const relayed: number[] = [];
  const shares: number[] = [];
  /** The ends' CPU time per MB (ms), direct and relayed: what the relay path costs the ends, whatever the scheduler did. */
  const directCost: number[] = [];
  const relayedCost: number[] = [];
  const rows: string[][] = [];
  let forwarded = { bytes: 0, packets: 0, cpuMs: 0 };
  try {
    const sink = (stream: Duplex): void => {
      stream.on('data', () => {});
      stream.once('end', () => stream.end());
    };
    const relayedProvider = await start();
    const directProvider = await start();
    const client = await start({ nat: { punch: false } });
    await new Promise((resolve) => setTimeout(resolve, 1500)); // NAT verdicts settle (they would clear a reservation made earlier)
    await relayedProvider.nat.service.relayClient.reserve({ id: relay.id, address: relay.address });
    await relayedProvider.register('bulk-relayed', { handler: sink });
    await directProvider.register('bulk-direct', { handler: sink });
    // Warm-up (JIT, first circuit): one short transfer each way, not counted.
    await streamThroughput(client, 'bulk-direct', 2e6);
    await streamThroughput(client, 'bulk-relayed', 2e6);
    const before = await relay.forwarded();
    for (let round = 0; round < ROUNDS; round++) {
      let d: Transfer;
      let r: Transfer;
      let relayCpu: number;
      const timed = async (): Promise<Transfer> => {
        const relayBefore = await relay.forwarded();
        const started = performance.now();
        const transfer = await profiled(`relayed-${round + 1}`, () => streamThroughput(client, 'bulk-relayed', BYTES));
        const relayAfter = await relay.forwarded();
        relayCpu = (relayAfter.cpuMs - relayBefore.cpuMs) / (performance.now() - started);
        return transfer;
      };
      if (round % 2 === 0) {
        d = await profiled(`direct-${round + 1}`, () => streamThroughput(client, 'bulk-direct', BYTES));
        r = await timed();
      } else {
        r = await timed();
        d = await profiled(`direct-${round + 1}`, () => streamThroughput(client, 'bulk-direct', BYTES));
      }
      direct.push(d.mbps);
      relayed.push(r.mbps);
      shares.push(r.mbps / d.mbps);
      directCost.push((1000 * d.endsCpu) / d.mbps);
      relayedCost.push((1000 * r.endsCpu) / r.mbps);
      const share = `${Math.round((100 * r.mbps) / d.mbps)}%`;
      const cpuPct = (x: number): string => `${Math.round(100 * x)}%`;
      rows.push([
        String(round + 1),
        round % 2 === 0 ? 'direct first' : 'relayed first',
        d.mbps.toFixed(1),
        r.mbps.toFixed(1),
        share,
        `${cpuPct(d.endsCpu)} / ${cpuPct(r.endsCpu)}`,
        `${cpuPct(d.endsWaiting)} / ${cpuPct(r.endsWaiting)}`,
        cpuPct(relayCpu!),
        `${d.lost} / ${r.lost}`,
        `${d.windowKiB.toFixed(0)} / ${r.windowKiB.toFixed(0)}`,
        `${d.srttMs.toFixed(2)} / ${r.srttMs.toFixed(2)}`,
      ]);
      console.log(`round ${round + 1}/${ROUNDS}: direct ${d.mbps.toFixed(1)} MB/s, relayed ${r.mbps.toFixed(1)} MB/s, ${share}`);
    }
    const after = await relay.forwarded();
    forwarded = { bytes: after.bytes - before.bytes, packets: after.packets - before.packets, cpuMs: after.cpuMs - before.cpuMs };
    if (forwarded.bytes < BYTES * ROUNDS) throw new Error(`the relayed stream did not pass the relay (${forwarded.bytes} bytes forwarded)`);
  } finally {
    await Promise.all(nodes.map((node) => node.stop()));
    await relay.stop();
    profiler?.disconnect();
  }
  const pct = (x: number): string => `${Math.round(100 * x)}%`;
  console.log(
    `\nRelayed tunnel throughput vs direct (real UDP on loopback, client -> relay node (own process) -> provider; ${(BYTES / 1e6).toFixed(0)} MB per transfer)`,
  );
  printTable(
    [
      'round',
      'order',
      'direct MB/s',
      'relayed MB/s',
      'relayed / direct',
      'ends CPU (direct / relayed)',
      'ends waiting for a CPU (d / r)',
      'relay CPU',
      'frames lost (d / r)',
      'cwnd KiB (d / r)',
      'srtt ms (d / r)',
    ],
    rows,
  );
  console.log('');
  printTable(
    ['rounds', 'direct MB/s (median)', 'relayed MB/s (median)', 'share (median of rounds)', 'share min..max', 'share p25..p75', 'relay datagrams, avg bytes'],
    [
      [
        String(ROUNDS),
        median(direct).toFixed(1),
        median(relayed).toFixed(1),
        pct(median(shares)),
        `${pct(Math.min(...shares))}..${pct(Math.max(...shares))}`,
        `${pct(percentile(shares, 25))}..${pct(percentile(shares, 75))}`,
        `${forwarded.packets.toLocaleString('en')}, ${Math.round(forwarded.bytes / Math.max(1, forwarded.packets))}`,
      ],
    ],
  );
  console.log('');
  printTable(
    ['CPU cost (medians)', 'direct', 'relayed', 'relayed / direct'],
    [
      [
        'ends (client + provider process), ms per MB',
        median(directCost).toFixed(1),
        median(relayedCost).toFixed(1),
        `${(median(relayedCost) / median(directCost)).toFixed(2)}x`,
      ],
      ['relay process, us per forwarded datagram', '-', ((1000 * forwarded.cpuMs) / Math.max(1, forwarded.packets)).toFixed(1), '-'],
    ],
  );
  console.log(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

if (process.env.NAT_RELAY_ROLE === 'relay') await relayRole();
else await main();
