/**
 * CPU cost of one Kademlia request/answer pair through the whole stack above the socket
 * (RPC, session sealing, codec, Kademlia server), with the socket replaced by an in-process
 * loop (a microtask hop), so dgram's own cost and other work on the machine stay out:
 *
 * - FIND_NODE to a known peer (keys, tokens and validation cached): the steady state;
 * - FIND_NODE as a first contact (both ends derive keys: X25519, HKDF; fresh tokens);
 * - ping to a known peer (the smallest round trip).
 *
 * The answering node's table holds 150 contacts, so FIND_NODE answers carry 20.
 * Run: node --import tsx bench/lookup-rpc.ts   (MCC_BENCH_PROFILE=path.cpuprofile to profile;
 * MCC_BENCH_ONLY=known|first|ping measures and profiles one exchange type alone)
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { MccNode } from '../src/index.js';
import type { Address } from '../src/util/address.js';
import type { DatagramHandler, Transport } from '../src/transport/types.js';
import { median, printTable } from './util.js';

/** Delivers datagrams between LoopTransports of this process a microtask later. */
class LoopTransport implements Transport {
  static readonly byPort = new Map<number, LoopTransport>();
  private static nextPort = 20_000;
  private handler: DatagramHandler = () => {};
  private readonly address: Address = { host: '127.0.0.1', port: LoopTransport.nextPort++ };

  bind(): Promise<Address> {
    LoopTransport.byPort.set(this.address.port, this);
    return Promise.resolve(this.address);
  }
  send(to: Address, data: Uint8Array): void {
    const target = LoopTransport.byPort.get(to.port);
    if (!target) return;
    const copy = Uint8Array.from(data);
    const from = this.address;
    queueMicrotask(() => target.handler(copy, from));
  }
  onDatagram(handler: DatagramHandler): void {
    this.handler = handler;
  }
  localAddress(): Address {
    return this.address;
  }
  close(): Promise<void> {
    LoopTransport.byPort.delete(this.address.port);
    return Promise.resolve();
  }
}

async function node(): Promise<MccNode> {
  const created = await MccNode.create({ transport: new LoopTransport(), clientMode: true, requestBudget: false }); // the stack's cost, not the per-source policy
  await created.start();
  return created;
}

const REQUESTERS = Number(process.env.MCC_BENCH_REQUESTERS ?? 300);
const server = await node();
for (let i = 0; i < 150; i++) server.kad.observe({ id: randomBytes(32), address: { host: `127.0.${i >> 8}.${(i & 255) + 1}`, port: 4000 + i } });
const requesters: MccNode[] = [];
for (let i = 0; i < REQUESTERS; i++) requesters.push(await node());
const peer = { id: server.id, address: server.address };
const findNode = () => ({ findNode: { target: randomBytes(32) } });

async function cpuPer(count: number, run: (i: number) => Promise<unknown>): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) await run(i);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}

const profiler = new Session();
if (process.env.MCC_BENCH_PROFILE) {
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
}
const rows: Record<string, number[]> = { 'FIND_NODE, known peer': [], 'FIND_NODE, first contact': [], 'ping, known peer': [] };
const firstContacts = Math.floor(REQUESTERS / 3);
const only = process.env.MCC_BENCH_ONLY;
// A known peer is known from the start when its exchange is measured alone.
if (only === 'known' || only === 'ping') await requesters[0].rpc.request(peer, findNode());
for (let round = 0; round < 3; round++) {
  if (!only || only === 'first') {
    rows['FIND_NODE, first contact'].push(await cpuPer(firstContacts, (i) => requesters[round * firstContacts + i].rpc.request(peer, findNode())));
  }
  if (!only || only === 'known') rows['FIND_NODE, known peer'].push(await cpuPer(2000, () => requesters[0].rpc.request(peer, findNode())));
  if (!only || only === 'ping') rows['ping, known peer'].push(await cpuPer(2000, () => requesters[0].rpc.request(peer, { ping: {} })));
}
if (process.env.MCC_BENCH_PROFILE) {
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(process.env.MCC_BENCH_PROFILE, JSON.stringify(profile));
  profiler.disconnect();
}
await Promise.all([server, ...requesters].map((n) => n.stop()));
console.log('\nCPU per request/answer pair, both ends, above the socket (median of 3 rounds)');
printTable(
  ['exchange', 'CPU us'],
  Object.entries(rows)
    .filter(([, values]) => values.length > 0)
    .map(([name, values]) => [name, median(values).toFixed(0)]),
);
