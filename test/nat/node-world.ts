/**
 * Full MccNodes behind simulated NATs, on a VirtualClock: public infrastructure nodes
 * (bootstrap, observers, relays), a few public DHT-client nodes (dial-back third parties
 * that nobody's lookups touch, as most nodes of a large mesh are), and nodes behind any
 * NAT kind of the matrix. Connects run the product pipeline (`node.connect()`:
 * TunnelService.handshake, NatPaths.relayed, the punch upgrade). Used by the NAT matrix,
 * hole-punch guard and probe budget tests and by bench/nat.ts.
 */
import type { Duplex } from 'node:stream';
import { MccNode, type MccNodeOptions } from '../../src/index.js';
import { SimNetwork, type SimNat } from '../../src/transport/sim/index.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';
import type { Address } from '../../src/util/address.js';
import type { NatStatus } from '../../src/node/nat.js';
import type { PunchResult } from '../../src/nat/holepunch.js';
import { PROBE_SIZE } from '../../src/nat/holepunch-probe.js';
import type { NatKind } from './sim-world.js';

export type { NatKind } from './sim-world.js';
export { NAT_KINDS } from './sim-world.js';

/** How a connect ended up reaching the provider. */
export type NodePath = 'direct' | 'punched' | 'relayed';

/** What one `connect()` did (see {@link NodeWorld.connect}). */
export interface ConnectOutcome {
  stream: Duplex;
  /** How the tunnel reached the provider, from the client's `stats().nat.connects`. */
  path: NodePath;
  /** `connect()` call to its resolution, ms (lookup included unless cached). */
  connectMs: number;
  /** `connect()` call to the move onto the punched path, ms (punched only). */
  directMs: number | undefined;
  /** The client's successful punch (the initiator's side), if any. */
  clientPunch: PunchResult | undefined;
  /** The provider's successful punch (the responder's side), if any. */
  providerPunch: PunchResult | undefined;
}

/** Hole-punch probes (26-byte 0x13 datagrams) handed to the simulated network, by destination. */
export interface ProbeCount {
  total: number;
  /** Per destination host. */
  toHost: Map<string, number>;
  /** Per destination `host:port`. */
  toAddress: Map<string, number>;
  /** Stops counting. */
  stop(): void;
}

/** A world of MccNodes on a simulated internet. */
export class NodeWorld {
  readonly clock = new VirtualClock(0);
  readonly network: SimNetwork;
  readonly infrastructure: MccNode[] = [];
  readonly nodes: MccNode[] = [];
  readonly wall: () => number;

  constructor(seed = 1, latencyMs = 10) {
    this.network = new SimNetwork({ clock: this.clock, seed, defaultLink: { latencyMs } });
    const epoch = Date.UTC(2026, 0, 1);
    this.wall = () => epoch + this.clock.now();
  }

  /** Public infrastructure (the first is everybody's bootstrap) and public DHT-client nodes. */
  async addInfrastructure(servers = 4, clients = 2, options: Partial<MccNodeOptions> = {}): Promise<void> {
    for (let i = 0; i < servers; i++) this.infrastructure.push(await this.addNode('none', options));
    for (let i = 0; i < clients; i++) await this.addNode('none', { clientMode: true });
  }

  /** Runs virtual time until `promise` settles (at most `maxMs`). */
  async drive<T>(promise: Promise<T>, maxMs = 120_000): Promise<T> {
    let settled = false;
    promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    const deadline = this.clock.now() + maxMs;
    while (!settled && this.clock.now() < deadline) await this.clock.run(10);
    return promise;
  }

  /** Runs virtual time until `condition` holds (at most `maxMs`); returns whether it did. */
  async until(condition: () => boolean, maxMs = 60_000): Promise<boolean> {
    const deadline = this.clock.now() + maxMs;
    while (!condition() && this.clock.now() < deadline) await this.clock.run(50);
    return condition();
  }

  /**
   * Starts a node behind a NAT of `kind` and waits for its NAT verdict (and, when it is
   * unreachable, its relay reservations).
   */
  async addNode(kind: NatKind, options: Partial<MccNodeOptions> = {}, onCreate?: (node: MccNode) => void): Promise<MccNode> {
    const relayHost = this.infrastructure[0]?.address.host;
    let router: SimNat | undefined;
    if (kind !== 'none') {
      router = this.network.createNat({ type: kind, ...(kind === 'udp-blocked' && relayHost ? { allowedHosts: [relayHost] } : {}) });
    }
    const transport = this.network.createTransport(router ? { nat: router } : {});
    const node = await MccNode.create({
      transport,
      clock: this.clock,
      wallClock: this.wall,
      bootstrap: this.infrastructure.length > 0 ? [this.infrastructure[0].address] : [],
      ...options,
      nat: {
        openSocket: async () => {
          const host = transport.localAddress().host;
          const extra = this.network.createTransport(router ? { nat: router, host } : { host });
          await extra.bind();
          return extra;
        },
        ...options.nat,
      },
    });
    this.nodes.push(node);
    onCreate?.(node);
    await this.drive(node.start());
    if (this.infrastructure.length > 0 && options.clientMode !== true) {
      const settled = (status: NatStatus): boolean =>
        status.reachable === true || ((status.reachable !== undefined || status.dht === 'client') && status.relays.length >= (kind === 'udp-blocked' ? 1 : 2));
      await this.until(() => settled(node.stats().nat), 120_000);
    }
    return node;
  }

  /** Bytes all infrastructure relays forwarded. */
  relayedBytes(): number {
    return this.infrastructure.reduce((sum, node) => sum + node.stats().nat.relayServer.forwardedBytes, 0);
  }

  /** How `client`'s newest connect reached its provider (from its connect counters before and after). */
  static pathOf(before: NatStatus['connects'], after: NatStatus['connects']): NodePath {
    if (after.punched > before.punched) return 'punched';
    if (after.direct > before.direct) return 'direct';
    return 'relayed';
  }

  /**
   * `client.connect(service)` (the product pipeline) to `provider`, then waits (at most
   * `punchWaitMs`) until the path is known: direct at once, or relayed with its first hole
   * punch settled (moved onto the punched path, or failed).
   */
  async connect(client: MccNode, provider: MccNode, service: string, punchWaitMs = 10_000): Promise<ConnectOutcome> {
    const before = client.stats().nat.connects;
    let clientPunch: PunchResult | undefined;
    let providerPunch: PunchResult | undefined;
    let movedAt: number | undefined;
    const onClient = (result: PunchResult): void => {
      if (result.initiator && result.peer === provider.idHex) clientPunch ??= result;
    };
    const onProvider = (result: PunchResult): void => {
      if (!result.initiator && result.peer === client.idHex) providerPunch ??= result;
    };
    const onUpgraded = (peer: string): void => {
      if (peer === provider.idHex) movedAt ??= this.clock.now();
    };
    client.nat.service.puncher.on('punched', onClient);
    provider.nat.service.puncher.on('punched', onProvider);
    client.nat.paths.on('upgraded', onUpgraded);
    try {
      const started = this.clock.now();
      const stream = await this.drive(client.connect(service));
      const connectMs = this.clock.now() - started;
      const settled = (): boolean => {
        const now = client.stats().nat.connects;
        return now.direct > before.direct || now.punched > before.punched || now.punchFailed > before.punchFailed;
      };
      await this.until(settled, punchWaitMs);
      // The responder's punch succeeds half a round trip after the initiator's (on its answer).
      if (clientPunch) await this.until(() => providerPunch !== undefined, 2000);
      const path = NodeWorld.pathOf(before, client.stats().nat.connects);
      return { stream, path, connectMs, directMs: path === 'punched' && movedAt !== undefined ? movedAt - started : undefined, clientPunch, providerPunch };
    } finally {
      client.nat.service.puncher.off('punched', onClient);
      provider.nat.service.puncher.off('punched', onProvider);
      client.nat.paths.off('upgraded', onUpgraded);
    }
  }

  /** Counts hole-punch probes handed to the network from now on (every sender, every socket). */
  countProbes(): ProbeCount {
    const count: ProbeCount = {
      total: 0,
      toHost: new Map(),
      toAddress: new Map(),
      stop: () => {
        if (this.network.tap === tap) this.network.tap = undefined;
      },
    };
    const tap = (this.network.tap = (event): void => {
      if (event.kind !== 'send' || event.size !== PROBE_SIZE) return;
      count.total++;
      count.toHost.set(event.to.host, (count.toHost.get(event.to.host) ?? 0) + 1);
      const key = addressKey(event.to);
      count.toAddress.set(key, (count.toAddress.get(key) ?? 0) + 1);
    });
    return count;
  }

  /** Writes `text` and resolves when the echo of as many bytes came back. */
  roundTrip(stream: Duplex, text: string): Promise<string> {
    return this.drive(
      new Promise<string>((resolve, reject) => {
        let got = '';
        const onData = (chunk: Buffer): void => {
          got += chunk.toString();
          if (got.length >= text.length) {
            stream.off('data', onData);
            stream.off('error', reject);
            resolve(got);
          }
        };
        stream.on('data', onData);
        stream.once('error', reject);
        stream.write(text);
      }),
      30_000,
    );
  }

  async close(): Promise<void> {
    await this.drive(Promise.all(this.nodes.map((node) => node.stop())), 10_000);
  }
}

/** `host:port`, the key of {@link ProbeCount.toAddress}. */
export function addressKey(address: Address): string {
  return `${address.host}:${address.port}`;
}
