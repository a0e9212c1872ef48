/**
 * NAT traversal on the simulated network (50 ms round trips, virtual clock), through the one
 * connect pipeline the product runs: whole MccNodes calling `connect()` (TunnelService
 * handshake, 3 s per attempt; NatPaths.relayed; the hole punch riding the circuit's set-up
 * and the move onto the punched path). The path is read from `stats().nat.connects`.
 * 1. path and punch success over the NAT matrix (one world per seed: a provider and a
 *    client behind every NAT kind; every client connects to every provider);
 * 2. time to a working path in round trips, per strategy: `connect()` resolving (the first
 *    stream usable), the move onto the punched path, the client's probing, probes sent
 *    (both ends, every socket) per connect;
 * 3. relay forwarding cost: relay CPU per datagram and bytes added;
 * 4. connect() to the first byte at the provider for direct, punched (first byte relayed,
 *    then moved) and relayed paths, in round trips.
 * (Relayed throughput on real UDP, a relay node between: bench/nat-relay.ts.)
 * Run: node --import tsx bench/nat.ts
 */
import { nodeCryptoSuite } from '../src/crypto/index.js';
import type { MccNode } from '../src/index.js';
import { RelayServer } from '../src/nat/relay-server.js';
import { RELAY_HEADER_SIZE, encodeRelayed } from '../src/nat/relay-packet.js';
import type { NatContext } from '../src/nat/types.js';
import { VirtualClock } from '../src/util/virtual-clock.js';
import { median, printTable } from './util.js';
import { NAT_KINDS, NodeWorld, type NatKind } from '../test/nat/node-world.js';

const RTT_MS = 50;
const MATRIX_SEEDS = Number(process.env.NAT_BENCH_SEEDS ?? 12);

interface Outcome {
  path: string;
  /** connect() call to its resolution. */
  connectMs: number;
  /** connect() call to the move onto the punched path (punched only). */
  directMs: number | undefined;
  /** The client's probing until its punch succeeded (punched only). */
  punchMs: number | undefined;
  /** Hole-punch probes both ends handed to the network, every socket. */
  probes: number;
}

/** One world per seed: every client kind connects to every provider kind, one pair after the other. */
async function matrixWorld(seed: number, outcomes: Map<string, Outcome[]>): Promise<void> {
  const world = new NodeWorld(seed, RTT_MS / 2);
  try {
    await world.addInfrastructure();
    const providers = new Map<NatKind, MccNode>();
    const clients = new Map<NatKind, MccNode>();
    for (const kind of NAT_KINDS) {
      const provider = await world.addNode(kind);
      await world.drive(provider.register(`bench-${kind}`, { handler: (stream) => stream.pipe(stream) }));
      providers.set(kind, provider);
    }
    for (const kind of NAT_KINDS) clients.set(kind, await world.addNode(kind));
    for (const a of NAT_KINDS) {
      for (const b of NAT_KINDS) {
        const client = clients.get(a)!;
        const provider = providers.get(b)!;
        await world.drive(client.lookup(`bench-${b}`)); // connect() then uses the fresh lookup: its time is the path's
        const probes = world.countProbes();
        const outcome = await world.connect(client, provider, `bench-${b}`);
        probes.stop();
        outcome.stream.destroy();
        client.tunnels.connectionTo(provider.id)?.close(); // no keep-alives or punch retries into the next pair
        await world.clock.run(100);
        const list = outcomes.get(`${a}|${b}`) ?? [];
        list.push({
          path: outcome.path,
          connectMs: outcome.connectMs,
          directMs: outcome.directMs,
          punchMs: outcome.clientPunch?.elapsedMs,
          probes: probes.total,
        });
        outcomes.set(`${a}|${b}`, list);
      }
    }
  } finally {
    await world.close();
  }
}

async function matrix(): Promise<Map<string, Outcome[]>> {
  const outcomes = new Map<string, Outcome[]>();
  for (let s = 0; s < MATRIX_SEEDS; s++) await matrixWorld(1000 + s * 31, outcomes);
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
    idHex: '0102030405060708',
    clientHex: '',
    initiatorHex: '',
    accepted: true,
    reserved: false,
    initiator: a,
    client: b,
    created: 0,
    lastActive: 0,
    tokens: 1e12,
    refilledAt: 0,
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
  console.log(`Paths over the NAT matrix, MccNode.connect() (rows: client, columns: provider; d = direct, p = punched, r = relayed; ${MATRIX_SEEDS} seeds)`);
  printTable(['client \\ provider', ...NAT_KINDS], rows);

  const byStrategy: Array<[string, Array<[NatKind, NatKind]>]> = [
    [
      'direct (provider reachable)',
      [
        ['port-restricted', 'full-cone'],
        ['none', 'none'],
      ],
    ],
    [
      'punched, consistent/consistent',
      [
        ['port-restricted', 'port-restricted'],
        ['none', 'port-restricted'],
      ],
    ],
    [
      'punched, public/random',
      [
        ['none', 'symmetric'],
        ['full-cone', 'symmetric'],
      ],
    ],
    [
      'punched, birthday (consistent/random)',
      [
        ['symmetric', 'port-restricted'],
        ['port-restricted', 'symmetric'],
      ],
    ],
    ['relayed, random/random (no punch tried)', [['symmetric', 'symmetric']]],
    [
      'relayed, UDP blocked (punch times out)',
      [
        ['udp-blocked', 'port-restricted'],
        ['port-restricted', 'udp-blocked'],
      ],
    ],
  ];
  const rtts = (values: number[]): string => (values.length ? (median(values) / RTT_MS).toFixed(1) : '-');
  const timing: string[][] = [];
  for (const [name, pairs] of byStrategy) {
    const list = pairs.flatMap(([a, b]) => outcomes.get(`${a}|${b}`)!);
    const success = list.filter((o) => o.path !== 'relayed').length / list.length;
    timing.push([
      name,
      String(list.length),
      `${Math.round(success * 100)}%`,
      rtts(list.map((o) => o.connectMs)),
      rtts(list.flatMap((o) => (o.directMs === undefined ? [] : [o.directMs]))),
      rtts(list.flatMap((o) => (o.punchMs === undefined ? [] : [o.punchMs]))),
      String(median(list.map((o) => o.probes))),
    ]);
  }
  console.log(`\nTime to a working path, in ${RTT_MS} ms round trips (median); probes: both ends, every socket, per connect (median)`);
  printTable(['strategy', 'runs', 'off-relay', 'connect() RTTs', 'to punched path RTTs', 'probing RTTs', 'probes'], timing);

  const all = [...outcomes.values()].flat();
  const punchable = [...outcomes].filter(([key]) => !key.includes('udp-blocked') && key !== 'symmetric|symmetric').flatMap(([, list]) => list);
  const relayedShare = all.filter((o) => o.path === 'relayed').length / all.length;
  const punchedShare = all.filter((o) => o.path === 'punched').length / all.length;
  console.log(
    `\nOff-relay rate where physics allows (no udp-blocked, not random/random): ${Math.round((100 * punchable.filter((o) => o.path !== 'relayed').length) / punchable.length)}% of ${punchable.length}; every one of ${all.length} connects resolved.`,
  );
  console.log(
    `Share of all ${all.length} connects: direct ${Math.round(100 * (1 - relayedShare - punchedShare))}%, punched ${Math.round(100 * punchedShare)}%, relayed ${Math.round(100 * relayedShare)}%; probes sent in all: ${all.reduce((sum, o) => sum + o.probes, 0).toLocaleString('en')}.`,
  );

  const cost = relayCost();
  console.log('\nRelay forwarding cost');
  printTable(
    ['relay datagrams/s (one core, 1109 B)', 'bytes added per datagram', 'share of a 1200 B datagram'],
    [[Math.round(cost.opsPerSecond).toLocaleString('en'), String(cost.overheadBytes), `${((100 * cost.overheadBytes) / 1200).toFixed(2)}%`]],
  );

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
    printTable(
      ['path', 'runs', 'lookup', 'connect() to first byte', 'connect() to direct path'],
      await firstByte(Number(process.env.NAT_BENCH_NODE_RUNS ?? 5)),
    );
  }
  await printFirstByte();

  console.log(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

await main();
