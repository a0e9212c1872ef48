/**
 * Flood benchmark (issue 18), real UDP on loopback, three processes:
 * - victim: an MccNode providing a 'bulk' service (each stream gets BULK_BYTES);
 * - attacker: floods the victim at FLOOD_RATE datagrams/s for FLOOD_SECONDS, half
 *   valid sealed FIND_NODE requests from its own identity (each a fresh datagram: they pass
 *   the AEAD and the replay window), half garbage (random bytes, some with the session kind
 *   byte and a random sender, which ask for a key agreement);
 * - this process: the legitimate peer, measuring sequential fresh lookups per second and
 *   tunnel throughput (bulk streams) before, during and after the flood, and sampling the
 *   victim's memory and counters.
 * Run: node --import tsx bench/flood.ts   (FLOOD_SECONDS=5 for a short run)
 * FLOOD_SINK=1 sends the same flood to a loopback port nobody listens on instead of the
 * victim: the machine's floor (the attacker process's own CPU on the shared cores), what a
 * victim that dropped every flood datagram for free would still lose.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { MccNode } from '../src/index.js';
import type { Address } from '../src/util/address.js';
import type { DatagramHandler, Transport } from '../src/transport/types.js';
import { UdpTransport } from '../src/transport/udp.js';
import { median, printTable } from './util.js';

const FLOOD_RATE = Number(process.env.FLOOD_RATE ?? 10_000);
const FLOOD_SECONDS = Number(process.env.FLOOD_SECONDS ?? 30);
const WINDOW_MS = 2_500;
const BULK_BYTES = 4 * 1024 * 1024;
const SELF = fileURLToPath(import.meta.url);

interface VictimReport {
  rss: number;
  heapUsed: number;
  stats: ReturnType<MccNode['stats']>;
}

// ---------------------------------------------------------------- victim process
async function victim(): Promise<void> {
  // FLOOD_BUDGET=N runs the victim with a per-address request budget of N/s (burst 2N) instead of the default.
  const rate = Number(process.env.FLOOD_BUDGET ?? 0);
  const requestBudget = rate > 0 ? { perAddress: { ratePerSecond: rate, burst: 2 * rate } } : {};
  const node = await MccNode.create({ host: '127.0.0.1', lan: false, requestBudget });
  await node.start();
  const chunk = Buffer.alloc(64 * 1024, 7);
  await node.register('bulk', {
    handler: (stream) => {
      let left = BULK_BYTES;
      const pump = (): void => {
        while (left > 0) {
          left -= chunk.length;
          if (!stream.write(chunk)) return void stream.once('drain', pump);
        }
        stream.end();
      };
      pump();
      stream.resume();
    },
  });
  process.on('message', (message: { type: string }) => {
    if (message.type === 'report') {
      const memory = process.memoryUsage();
      process.send!({ type: 'report', rss: memory.rss, heapUsed: memory.heapUsed, stats: node.stats() });
    } else if (message.type === 'stop') void node.stop().then(() => process.exit(0));
  });
  process.send!({ type: 'ready', id: node.idHex, address: node.address });
}

// ---------------------------------------------------------------- attacker process
/** The attacker's UDP transport, able to keep what the session seals instead of sending it. */
class CapturingTransport implements Transport {
  capture: Uint8Array[] | undefined;
  constructor(readonly inner: UdpTransport) {}
  bind(): Promise<Address> {
    return this.inner.bind();
  }
  send(to: Address, data: Uint8Array): void {
    if (this.capture) this.capture.push(Uint8Array.from(data));
    else this.inner.send(to, data);
  }
  onDatagram(handler: DatagramHandler): void {
    this.inner.onDatagram(handler);
  }
  localAddress(): Address {
    return this.inner.localAddress();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

async function attacker(target: { id: string; address: Address }): Promise<void> {
  const transport = new CapturingTransport(new UdpTransport({ host: '127.0.0.1', port: 0 }));
  const node = await MccNode.create({ transport, lan: false, clientMode: true });
  await node.start();
  const peer = { id: Buffer.from(target.id, 'hex'), address: target.address };
  await node.ping(target.address).catch(() => undefined); // keys and a token, as a real peer would have
  // Sealing in JS on a loaded machine cannot keep up with the rate: seal every request first
  // (each a fresh counter, so each passes the victim's replay window), then send in order.
  const sealedCount = Math.ceil((FLOOD_RATE / 2) * FLOOD_SECONDS);
  transport.capture = [];
  for (let i = 0; i < sealedCount; i++) {
    node.session.send(peer, { rid: (Math.random() * 0xffffffff) >>> 0 || 1, response: false, findNode: { target: randomBytes(32), clientMode: true } });
  }
  const sealed = transport.capture;
  // From now on the node itself stays silent: any datagram of its own would carry a newer
  // counter and push the victim's replay window past the sealed ones.
  transport.capture = [];
  const silence = setInterval(() => (transport.capture = []), 1000);
  const garbage = Array.from({ length: 4096 }, () => {
    const datagram = randomBytes(40 + Math.floor(Math.random() * 200));
    if (Math.random() < 0.5) datagram[0] = 0x11; // session kind: a random sender asks for a key agreement
    return datagram;
  });
  // The floor run: the same datagrams, at the same rate, to a port the kernel drops them on.
  const sink = process.env.FLOOD_SINK ? { host: '127.0.0.1', port: await unusedPort() } : target.address;
  process.send!({ type: 'armed' });
  const batch = Math.max(2, Math.round(FLOOD_RATE / 100)); // one batch every 10 ms
  const start = performance.now();
  const end = start + FLOOD_SECONDS * 1000;
  let sent = 0;
  let next = start;
  let s = 0;
  while (performance.now() < end) {
    for (let i = 0; i < batch; i += 2) {
      if (s < sealed.length) transport.inner.send(sink, sealed[s++]);
      transport.inner.send(sink, garbage[(sent >> 1) % garbage.length]);
      sent += 2;
    }
    next += 10;
    const wait = next - performance.now();
    await new Promise((resolve) => (wait > 0 ? setTimeout(resolve, wait) : setImmediate(resolve)));
  }
  const seconds = (performance.now() - start) / 1000;
  clearInterval(silence);
  await node.stop();
  process.send!({ type: 'done', sent, seconds });
}

/** A loopback UDP port with nothing bound to it (bound once, then closed). */
async function unusedPort(): Promise<number> {
  const probe = new UdpTransport({ host: '127.0.0.1', port: 0 });
  const { port } = await probe.bind();
  await probe.close();
  return port;
}

// ---------------------------------------------------------------- the legitimate peer
function child(role: string, arg?: string): ChildProcess {
  return fork(SELF, [role, ...(arg ? [arg] : [])], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

async function report(victimProcess: ChildProcess): Promise<VictimReport> {
  victimProcess.send({ type: 'report' });
  for (;;) {
    const [message] = (await once(victimProcess, 'message')) as [{ type: string } & VictimReport];
    if (message.type === 'report') return message;
  }
}

/** Sequential fresh lookups per second over one window. */
async function lookupRate(node: MccNode): Promise<number> {
  let done = 0;
  const start = performance.now();
  while (performance.now() - start < WINDOW_MS) {
    await node.lookup('bulk', { fresh: true });
    done++;
  }
  return done / ((performance.now() - start) / 1000);
}

/** Tunnel throughput in MB/s over one window (whole bulk streams, one at a time). */
async function tunnelRate(node: MccNode): Promise<number> {
  let bytes = 0;
  const start = performance.now();
  while (performance.now() - start < WINDOW_MS) {
    const stream = await node.connect('bulk');
    for await (const chunk of stream) bytes += (chunk as Buffer).length;
  }
  return bytes / 1e6 / ((performance.now() - start) / 1000);
}

async function measure(node: MccNode, windows: number): Promise<{ lookups: number[]; tunnel: number[] }> {
  const lookups: number[] = [];
  const tunnel: number[] = [];
  for (let i = 0; i < windows; i++) {
    lookups.push(await lookupRate(node));
    tunnel.push(await tunnelRate(node));
  }
  return { lookups, tunnel };
}

async function main(): Promise<void> {
  const victimProcess = child('victim');
  const [ready] = (await once(victimProcess, 'message')) as [{ id: string; address: Address }];
  // A DHT client: it never becomes a holder of the record itself, so every lookup asks the victim.
  const legit = await MccNode.create({ host: '127.0.0.1', lan: false, clientMode: true, bootstrap: [ready.address] });
  await legit.start();
  if (process.env.FLOOD_DEBUG) console.log('legit started');
  const sentBefore = legit.stats().rpc.sent;
  await legit.lookup('bulk', { fresh: true });
  if (legit.stats().rpc.sent === sentBefore) throw new Error('a fresh lookup sent no request: the bench would measure a cache');
  if (process.env.FLOOD_DEBUG) console.log('first lookup done');
  await measure(legit, 1); // warm-up

  const windows = Math.max(1, Math.floor((FLOOD_SECONDS * 1000) / (2 * WINDOW_MS)) - 1);
  const baseline = await measure(legit, windows);
  const quiet = await report(victimProcess);
  const attackerProcess = child('attacker', JSON.stringify(ready));
  await once(attackerProcess, 'message'); // armed: the flood starts now
  const attackerDone = once(attackerProcess, 'message');
  await new Promise((resolve) => setTimeout(resolve, 500)); // the flood is under way
  const during = await measure(legit, windows);
  const flooded = await report(victimProcess);
  const [done] = (await attackerDone) as [{ sent: number; seconds: number }];
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = await measure(legit, windows);
  const settled = await report(victimProcess);
  await legit.stop();
  victimProcess.send({ type: 'stop' });
  await once(victimProcess, 'exit');

  const row = (name: string, base: number[], flood: number[], post: number[], digits: number): string[] => [
    name,
    median(base).toFixed(digits),
    median(flood).toFixed(digits),
    median(post).toFixed(digits),
    (median(flood) / median(base)).toFixed(2),
  ];
  const where = process.env.FLOOD_SINK ? 'to a dead loopback port (floor run: the victim receives none)' : 'at the victim';
  console.log(`flood: ${done.sent} datagrams in ${done.seconds} s (${(done.sent / done.seconds).toFixed(0)}/s, half sealed FIND_NODE, half garbage) ${where}`);
  printTable(
    [`legitimate peer (median of ${windows} x ${WINDOW_MS / 1000} s windows)`, 'before', 'during flood', 'after', 'during/before'],
    [
      row('fresh lookups/s (sequential)', baseline.lookups, during.lookups, after.lookups, 0),
      row('tunnel MB/s (4 MiB streams)', baseline.tunnel, during.tunnel, after.tunnel, 1),
    ],
  );
  const mb = (n: number): string => (n / 1e6).toFixed(1);
  console.log(
    `victim memory: rss ${mb(quiet.rss)} -> ${mb(flooded.rss)} -> ${mb(settled.rss)} MB, heap ${mb(quiet.heapUsed)} -> ${mb(flooded.heapUsed)} -> ${mb(settled.heapUsed)} MB (before, end of flood, after)`,
  );
  const s = settled.stats;
  console.log(`victim rateLimited: ${JSON.stringify(s.rateLimited)}`);
  console.log(`victim dropped: ${JSON.stringify(s.dropped)}; datagrams in ${s.datagramsIn}`);
}

const role = process.argv[2];
if (role === 'victim') await victim();
else if (role === 'attacker') await attacker(JSON.parse(process.argv[3]) as { id: string; address: Address });
else await main();
