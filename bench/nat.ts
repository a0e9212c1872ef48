/**
 * NAT traversal on the simulated network (50 ms round trips, virtual clock):
 * 1. path and punch success over the NAT matrix (several seeds per pair);
 * 2. time to a working path in round trips, per strategy (connect() start to the
 *    first authenticated probe; the rendezvous runs over a relay circuit);
 * 3. relay forwarding cost: relay CPU per datagram and bytes added;
 * 4. whole MccNodes (sim, 50 ms round trips): connect() to the first byte at the provider
 *    for direct, punched (first byte relayed, then moved) and relayed paths, in round trips;
 * (Relayed throughput on real UDP, a relay node between: bench/nat-relay.ts.)
 * Run: node --import tsx bench/nat.ts
 */
import { nodeCryptoSuite } from '../src/crypto/index.js';
import { RelayServer } from '../src/nat/relay-server.js';
import { RELAY_HEADER_SIZE, encodeRelayed } from '../src/nat/relay-packet.js';
import type { NatContext } from '../src/nat/types.js';
import { VirtualClock } from '../src/util/virtual-clock.js';
import { NAT_KINDS, SimWorld, type NatKind } from '../test/nat/sim-world.js';
import { median, printTable } from './util.js';
import { NodeWorld } from '../test/nat/node-world.js';

const RTT_MS = 50;
const MATRIX_SEEDS = Number(process.env.NAT_BENCH_SEEDS ?? 3);
const RANDOM_PAIR_SEEDS = Number(process.env.NAT_BENCH_RANDOM_SEEDS ?? 12);

interface Outcome {
  path: string;
  connectMs: number;
  punchMs: number | undefined;
}

async function connectOnce(a: NatKind, b: NatKind, seed: number): Promise<Outcome> {
  const world = new SimWorld(seed, RTT_MS / 2);
  try {
    await world.addInfrastructure(4);
    const initiator = await world.addNode({ kind: a });
    const target = await world.addNode({ kind: b });
    for (const node of [initiator, target]) node.nat.start();
    await world.settle(Promise.all([initiator.nat.monitor.check(), target.nat.monitor.check()]));
    await world.clock.run(3000);
    await world.settle(Promise.all([initiator.nat.relayClient.settled(), target.nat.relayClient.settled()]));
    const contact = { id: target.id, addresses: target.nat.localInfo().addresses, relays: target.nat.relayClient.relays, reachable: target.nat.state.reachable };
    const result = await world.settle(initiator.nat.connector.connect(contact), 30_000);
    return { path: result.path, connectMs: result.elapsedMs, punchMs: result.punch?.elapsedMs };
  } finally {
    await world.close();
  }
}

async function matrix(): Promise<Map<string, Outcome[]>> {
  const outcomes = new Map<string, Outcome[]>();
  for (const a of NAT_KINDS) {
    for (const b of NAT_KINDS) {
      const seeds = (a === 'symmetric') !== (b === 'symmetric') && a !== 'udp-blocked' && b !== 'udp-blocked' ? RANDOM_PAIR_SEEDS : MATRIX_SEEDS;
      const list: Outcome[] = [];
      for (let s = 0; s < seeds; s++) list.push(await connectOnce(a, b, 1000 + s * 31 + NAT_KINDS.indexOf(a) * 7 + NAT_KINDS.indexOf(b)));
      outcomes.set(`${a}|${b}`, list);
    }
  }
  return outcomes;
}

function relayCost(): { opsPerSecond: number; overheadBytes: number } {
  const clock = new VirtualClock();
  let forwarded = 0;
  const context = { clock, crypto: nodeCryptoSuite, rpc: { request: () => Promise.reject(new Error('unused')), handle: () => {} } } as unknown as NatContext;
  const server = new RelayServer(context, () => void forwarded++, { bytesPerSecond: 1e12, burstBytes: 1e12 });
  // Install one circuit through the private table the RPC path would fill.
  const id = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const a = { host: '10.0.0.1', port: 1 };
  const b = { host: '10.0.0.2', port: 2 };
  (server as unknown as { circuits: Map<string, object> }).circuits.set('0102030405060708', {
    idHex: '0102030405060708', clientHex: '', initiatorHex: '', accepted: true, reserved: false, initiator: a, client: b, created: 0, lastActive: 0, tokens: 1e12, refilledAt: 0,
  });
  const packet = encodeRelayed(id, new Uint8Array(1100));
  const count = 2_000_000;
  const started = performance.now();
  for (let i = 0; i < count; i++) server.handlePacket(packet, i & 1 ? a : b);
  const seconds = (performance.now() - started) / 1000;
  if (forwarded !== count) throw new Error('relay dropped packets in the cost test');
  return { opsPerSecond: count / seconds, overheadBytes: RELAY_HEADER_SIZE };
}

async function main(): Promise<void> {
const started = performance.now();
if (process.env.NAT_BENCH_ONLY === 'nodes') {
  // Only section 4 (connect() timing with whole nodes): the quick check while tuning the connect path.
  await printFirstByte();
  return;
}
const outcomes = await matrix();
const rows: string[][] = [];
for (const a of NAT_KINDS) {
  const row: string[] = [a];
  for (const b of NAT_KINDS) {
    const list = outcomes.get(`${a}|${b}`)!;
    const counts = new Map<string, number>();
    for (const o of list) counts.set(o.path, (counts.get(o.path) ?? 0) + 1);
    row.push([...counts].map(([path, n]) => `${path[0]}${n === list.length ? '' : ` ${Math.round((100 * n) / list.length)}%`}`).join(' / '));
  }
  rows.push(row);
}
console.log(`Paths over the NAT matrix (rows: initiator, columns: target; d = direct, p = punched, r = relayed; ${MATRIX_SEEDS} seeds, ${RANDOM_PAIR_SEEDS} for consistent/random pairs)`);
printTable(['initiator \\ target', ...NAT_KINDS], rows);

const byStrategy: Array<[string, Array<[NatKind, NatKind]>]> = [
  ['direct (target reachable)', [['port-restricted', 'full-cone'], ['none', 'none']]],
  ['punched, consistent/consistent', [['port-restricted', 'port-restricted'], ['none', 'port-restricted']]],
  ['punched, public/random', [['none', 'symmetric'], ['full-cone', 'symmetric']]],
  ['punched, birthday (consistent/random)', [['symmetric', 'port-restricted'], ['port-restricted', 'symmetric']]],
  ['relayed, random/random (no punch tried)', [['symmetric', 'symmetric']]],
  ['relayed, UDP blocked (punch times out)', [['udp-blocked', 'port-restricted'], ['port-restricted', 'udp-blocked']]],
];
const timing: string[][] = [];
for (const [name, pairs] of byStrategy) {
  const list = pairs.flatMap(([a, b]) => outcomes.get(`${a}|${b}`)!);
  const punched = list.filter((o) => o.punchMs !== undefined);
  const success = list.filter((o) => o.path !== 'relayed').length / list.length;
  timing.push([
    name,
    String(list.length),
    `${Math.round(success * 100)}%`,
    (median(list.map((o) => o.connectMs)) / RTT_MS).toFixed(1),
    punched.length ? (median(punched.map((o) => o.punchMs!)) / RTT_MS).toFixed(1) : '-',
  ]);
}
console.log(`\nTime to a working path, in ${RTT_MS} ms round trips (median)`);
printTable(['strategy', 'runs', 'off-relay', 'connect() RTTs', 'probing RTTs'], timing);

const all = [...outcomes.values()].flat();
const punchable = [...outcomes].filter(([key]) => !key.includes('udp-blocked') && key !== 'symmetric|symmetric').flatMap(([, list]) => list);
console.log(`\nOff-relay rate where physics allows (no udp-blocked, not random/random): ${Math.round((100 * punchable.filter((o) => o.path !== 'relayed').length) / punchable.length)}% of ${punchable.length}; every one of ${all.length} runs connected.`);

const cost = relayCost();
console.log('\nRelay forwarding cost');
printTable(['relay datagrams/s (one core, 1109 B)', 'bytes added per datagram', 'share of a 1200 B datagram'], [
  [Math.round(cost.opsPerSecond).toLocaleString('en'), String(cost.overheadBytes), `${((100 * cost.overheadBytes) / 1200).toFixed(2)}%`],
]);

// ---- 4. whole nodes: connect() to first byte ----

/** Per path: connect() to the first byte at the provider, and (punched) to the move onto the direct path. */
async function firstByte(runs: number): Promise<string[][]> {
  const world = new NodeWorld(11, RTT_MS / 2);
  const rows: string[][] = [];
  try {
    await world.addInfrastructure();
    const cases: Array<[string, NatKind, NatKind]> = [
      ['direct (provider reachable)', 'port-restricted', 'full-cone'],
      ['punched (relayed first, then moved)', 'port-restricted', 'port-restricted'],
      ['relayed (random/random)', 'symmetric', 'symmetric'],
    ];
    for (const [name, clientKind, providerKind] of cases) {
      const provider = await world.addNode(providerKind);
      const service = `bench-${providerKind}`;
      let firstAt = 0;
      await world.drive(provider.register(service, { handler: (stream) => stream.once('data', () => (firstAt = world.clock.now())) }));
      const lookups: number[] = [];
      const firsts: number[] = [];
      const moves: number[] = [];
      for (let run = 0; run < runs; run++) {
        const client = await world.addNode(clientKind);
        let t0 = world.clock.now();
        await world.drive(client.lookup(service));
        lookups.push(world.clock.now() - t0);
        let movedAt = 0;
        client.nat.paths.once('upgraded', () => (movedAt = world.clock.now()));
        firstAt = 0;
        t0 = world.clock.now();
        const stream = await world.drive(client.connect(service));
        stream.write('x');
        await world.until(() => firstAt > 0, 30_000);
        firsts.push(firstAt - t0);
        if (clientKind === providerKind && clientKind === 'port-restricted') {
          await world.until(() => movedAt > 0, 10_000);
          if (movedAt > 0) moves.push(movedAt - t0);
        }
        stream.destroy();
      }
      const rtts = (values: number[]): string => (values.length ? (median(values) / RTT_MS).toFixed(1) : '-');
      rows.push([name, String(runs), rtts(lookups), rtts(firsts), rtts(moves)]);
    }
  } finally {
    await world.close();
  }
  return rows;
}

async function printFirstByte(): Promise<void> {
  console.log(`\nWhole nodes (MccNode on the simulated network, ${RTT_MS} ms round trips; medians in round trips)`);
  printTable(['path', 'runs', 'lookup', 'connect() to first byte', 'connect() to direct path'], await firstByte(Number(process.env.NAT_BENCH_NODE_RUNS ?? 5)));
}
await printFirstByte();

console.log(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

await main();
