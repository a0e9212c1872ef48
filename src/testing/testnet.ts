/**
 * A whole mesh in one process for your own tests: real `MccNode`s (the same code as in
 * production) on the simulated network, optionally behind simulated NATs, on a virtual
 * clock by default so that hundreds of nodes and minutes of protocol time run in
 * seconds, deterministically for a given seed.
 */
import { MccNode } from '../node/node.js';
import type { MccNodeOptions } from '../node/types.js';
import type { NatStatus } from '../node/nat.js';
import { invalidArgument } from '../errors.js';
import type { Address } from '../util/address.js';
import { systemClock, type Clock } from '../util/clock.js';
import { VirtualClock } from '../util/virtual-clock.js';
import { SimNetwork } from '../transport/sim/network.js';
import type { SimNat, SimNatType } from '../transport/sim/nat.js';
import type { LinkProfile } from '../transport/sim/link.js';

/** Where a testnet node sits: on the public network, or behind a NAT of this kind. */
export type TestnetNat = 'none' | SimNatType;

/** Options of {@link createTestnet}. */
export interface TestnetOptions {
  /** Nodes in `testnet.nodes` (besides the bootstrap nodes). Default 3. */
  size?: number;
  /** NAT of every node, or one entry per node (index i for `nodes[i]`). Default `'none'`. */
  nat?: TestnetNat | TestnetNat[];
  /** One-way latency of every link in ms, or a full link profile (jitter, loss, bandwidth). Default 10 ms. */
  latency?: number | Partial<LinkProfile>;
  /** Public bootstrap nodes: they also observe NATs and relay. Default 1, or 4 when a node is behind a NAT. */
  bootstrapNodes?: number;
  /** Seed of every random draw of the network: the same seed gives the same run. Default 1. */
  seed?: number;
  /** Run on a virtual clock (default true): wrap awaited work in {@link Testnet.run}. False: real time. */
  virtualTime?: boolean;
  /** Options given to every node (a node's own transport and clock are the testnet's). */
  nodeOptions?: Partial<MccNodeOptions>;
}

/** A running simulated mesh. */
export interface Testnet {
  /** The simulated network (links, NATs, counters, traces). */
  readonly network: SimNetwork;
  /** The clock every node runs on: a {@link VirtualClock} unless `virtualTime: false`. */
  readonly clock: Clock;
  /** Public bootstrap nodes, started first. */
  readonly bootstrap: MccNode[];
  /** The nodes asked for with `size`, started and joined. */
  readonly nodes: MccNode[];
  /** Addresses of the bootstrap nodes, to give to nodes you create yourself. */
  readonly bootstrapAddresses: Address[];
  /**
   * Waits for `work` while the virtual clock advances (at most `maxMs` of virtual time,
   * default 10 minutes); with real time it just awaits. Every await on the network must go
   * through it on a virtual clock, since nothing else moves time forward.
   */
  run<T>(work: Promise<T>, maxMs?: number): Promise<T>;
  /** Advances time until `condition()` holds (at most `maxMs`, default 60 s); resolves whether it did. */
  until(condition: () => boolean, maxMs?: number): Promise<boolean>;
  /** Starts one more node (behind `nat`), joined through the bootstrap nodes. */
  add(nat?: TestnetNat, options?: Partial<MccNodeOptions>): Promise<MccNode>;
  /** Stops every node of the testnet. */
  stop(): Promise<void>;
}

const NAT_TYPES: readonly TestnetNat[] = ['none', 'full-cone', 'port-restricted', 'symmetric', 'udp-blocked'];

/**
 * Builds and starts a simulated mesh.
 *
 * ```ts
 * const testnet = await createTestnet({ size: 10, nat: 'port-restricted' });
 * const [provider, client] = testnet.nodes;
 * await testnet.run(provider.register('echo', { handler: (stream) => stream.pipe(stream) }));
 * const providers = await testnet.run(client.lookup('echo'));
 * await testnet.stop();
 * ```
 */
export async function createTestnet(options: TestnetOptions = {}): Promise<Testnet> {
  const size = options.size ?? 3;
  if (!Number.isInteger(size) || size < 0 || size > 10_000) throw invalidArgument('size', 'expected an integer 0..10000');
  const nats = Array.from({ length: size }, (_, index) => (Array.isArray(options.nat) ? (options.nat[index] ?? 'none') : (options.nat ?? 'none')));
  for (const nat of nats) if (!NAT_TYPES.includes(nat)) throw invalidArgument('nat', `"${String(nat)}" is not one of ${NAT_TYPES.join(', ')}`);
  const anyNat = nats.some((nat) => nat !== 'none');
  const bootstrapCount = options.bootstrapNodes ?? (anyNat ? 4 : 1);
  if (!Number.isInteger(bootstrapCount) || bootstrapCount < 1) throw invalidArgument('bootstrapNodes', 'expected an integer >= 1');
  const link = typeof options.latency === 'number' ? { latencyMs: options.latency } : (options.latency ?? { latencyMs: 10 });
  const virtual = options.virtualTime !== false;
  const clock: Clock = virtual ? new VirtualClock(0) : systemClock;
  const network = new SimNetwork({ clock, seed: options.seed ?? 1, defaultLink: link });
  const epoch = Date.UTC(2026, 0, 1);
  const wallClock = virtual ? (): number => epoch + clock.now() : Date.now;
  const bootstrap: MccNode[] = [];
  const nodes: MccNode[] = [];
  const all: MccNode[] = [];

  const run = async <T>(work: Promise<T>, maxMs = 600_000): Promise<T> => {
    if (!(clock instanceof VirtualClock)) return work;
    let settled = false;
    work.then(
      () => (settled = true),
      () => (settled = true),
    );
    const deadline = clock.now() + maxMs;
    while (!settled && clock.now() < deadline) await clock.run(10);
    return work;
  };
  const until = async (condition: () => boolean, maxMs = 60_000): Promise<boolean> => {
    const deadline = clock.now() + maxMs;
    while (!condition() && clock.now() < deadline) {
      if (clock instanceof VirtualClock) await clock.run(50);
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return condition();
  };

  const add = async (nat: TestnetNat = 'none', extra: Partial<MccNodeOptions> = {}): Promise<MccNode> => {
    if (!NAT_TYPES.includes(nat)) throw invalidArgument('nat', `"${String(nat)}" is not one of ${NAT_TYPES.join(', ')}`);
    const relayHost = bootstrap[0]?.address.host;
    let router: SimNat | undefined;
    if (nat !== 'none') router = network.createNat({ type: nat, ...(nat === 'udp-blocked' && relayHost ? { allowedHosts: [relayHost] } : {}) });
    const transport = network.createTransport(router ? { nat: router } : {});
    const node = await MccNode.create({
      ...options.nodeOptions,
      ...extra,
      transport,
      clock,
      wallClock,
      bootstrap: bootstrap.map((seed) => seed.address),
      nat: {
        // Hole punching from behind a random-port NAT opens extra sockets: on the same simulated host.
        openSocket: async () => {
          const socket = network.createTransport(router ? { nat: router, host: transport.localAddress().host } : { host: transport.localAddress().host });
          await socket.bind();
          return socket;
        },
        ...options.nodeOptions?.nat,
        ...extra.nat,
      },
    });
    all.push(node);
    await run(node.start());
    if (nat !== 'none') {
      // A node behind NAT is ready once it knows it and holds its relays.
      const ready = (status: NatStatus): boolean =>
        status.reachable === true || ((status.reachable !== undefined || status.dht === 'client') && status.relays.length >= (nat === 'udp-blocked' ? 1 : 2));
      await until(() => ready(node.stats().nat), 120_000);
    }
    return node;
  };

  for (let i = 0; i < bootstrapCount; i++) bootstrap.push(await add('none'));
  for (const nat of nats) nodes.push(await add(nat));
  return {
    network,
    clock,
    bootstrap,
    nodes,
    get bootstrapAddresses() {
      return bootstrap.map((node) => node.address);
    },
    run,
    until,
    add: async (nat, extra) => {
      const node = await add(nat, extra);
      nodes.push(node);
      return node;
    },
    stop: async () => {
      await run(Promise.all(all.map((node) => node.stop())), 60_000);
    },
  };
}
