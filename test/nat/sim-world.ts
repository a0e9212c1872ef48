/**
 * A small simulated internet for the NAT unit tests (relays, HolePuncher, classifier): real SessionLayer
 * and RpcLayer instances over simulated transports (wrapped in RelayTransport), each
 * with a NatService, on a VirtualClock.
 */
import { nodeCryptoSuite } from '../../src/crypto/index.js';
import { generateIdentity } from '../../src/crypto/identity.js';
import { SessionLayer } from '../../src/session/session.js';
import { RpcLayer } from '../../src/session/rpc.js';
import { SimNetwork } from '../../src/transport/sim/network.js';
import type { SimNat, SimNatOptions } from '../../src/transport/sim/nat.js';
import type { SimTransport } from '../../src/transport/sim/transport.js';
import { mulberry32 } from '../../src/transport/sim/random.js';
import { Stats } from '../../src/util/stats.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';
import type { Address } from '../../src/util/address.js';
import { bytesToHex } from '../../src/util/bytes.js';
import { toSocketAddress } from '../../src/wire/address.js';
import { NatService, type NatServiceOptions } from '../../src/nat/nat-service.js';
import { RelayTransport } from '../../src/nat/relay-transport.js';
import type { NatContext, NatPeer } from '../../src/nat/types.js';

/** NAT kinds of the test matrix: `none` is a public host. */
export type NatKind = 'none' | 'full-cone' | 'port-restricted' | 'symmetric' | 'udp-blocked';
/** Every kind, in table order. */
export const NAT_KINDS: NatKind[] = ['none', 'full-cone', 'port-restricted', 'symmetric', 'udp-blocked'];

/** One simulated node. */
export interface SimNode {
  id: Uint8Array;
  idHex: string;
  sim: SimTransport;
  transport: RelayTransport;
  session: SessionLayer;
  rpc: RpcLayer;
  stats: Stats;
  nat: NatService;
  context: NatContext;
  router: SimNat | undefined;
  /** Bound (inside) address. */
  address: Address;
  /** This node as a peer at its bound address (reachable only for public nodes). */
  peer: NatPeer;
}

/** Options of {@link SimWorld.addNode}. */
export interface AddNodeOptions {
  kind?: NatKind;
  /** Put the node behind an existing router instead of a new one. */
  router?: SimNat;
  /** Observers (default: the world's public infrastructure nodes). */
  observers?: () => NatPeer[];
  nat?: Partial<NatServiceOptions>;
  natOptions?: Partial<SimNatOptions>;
}

/** The world. */
export class SimWorld {
  readonly clock = new VirtualClock();
  readonly network: SimNetwork;
  readonly random: () => number;
  readonly nodes: SimNode[] = [];
  /** Public infrastructure (observers, relays, third parties), in creation order. */
  readonly infrastructure: SimNode[] = [];

  constructor(seed = 1, latencyMs = 25) {
    this.network = new SimNetwork({ clock: this.clock, seed, defaultLink: { latencyMs } });
    this.random = mulberry32(seed * 7919 + 1);
  }

  /** Adds `count` public nodes that observe, relay and dial back for the others. */
  async addInfrastructure(count: number): Promise<SimNode[]> {
    const added: SimNode[] = [];
    for (let i = 0; i < count; i++) {
      const node = await this.addNode({ kind: 'none', observers: () => this.infrastructure.filter((n) => n !== node).map((n) => n.peer) });
      this.infrastructure.push(node);
      added.push(node);
    }
    return added;
  }

  /** Creates, binds and wires one node (not started). */
  async addNode(options: AddNodeOptions = {}): Promise<SimNode> {
    const kind = options.kind ?? 'none';
    let router = options.router;
    if (!router && kind !== 'none') {
      router = this.network.createNat({
        type: kind,
        allowedHosts: kind === 'udp-blocked' ? this.infrastructure.slice(0, 1).map((n) => n.address.host) : undefined,
        ...options.natOptions,
      });
    }
    const sim = this.network.createTransport(router ? { nat: router } : {});
    const transport = new RelayTransport(sim);
    const address = await transport.bind();
    const identity = generateIdentity(nodeCryptoSuite);
    const stats = new Stats();
    const session = new SessionLayer({ identity, suite: nodeCryptoSuite, transport, clock: this.clock, stats });
    const rpc = new RpcLayer(session, this.clock, stats, { defaultTimeoutMs: 3000 });
    session.onMessage((message) => rpc.receive(message));
    rpc.handle('ping', (request) => ({ pong: { observed: toSocketAddress(request.from.address) } }));
    const context: NatContext = { clock: this.clock, rpc, crypto: nodeCryptoSuite };
    const observers = options.observers ?? (() => this.infrastructure.map((n) => n.peer));
    const insideHost = address.host;
    const nat = new NatService(context, {
      transport,
      sendOneWay: (to, body) => void session.send(to, body),
      observers,
      ...options.nat,
      holepunch: {
        random: this.random,
        openSocket: async () => {
          const extra = this.network.createTransport(router ? { nat: router, host: insideHost } : { host: insideHost });
          await extra.bind();
          return extra;
        },
        ...options.nat?.holepunch,
      },
    });
    const node: SimNode = {
      id: identity.publicKey,
      idHex: bytesToHex(identity.publicKey),
      sim,
      transport,
      session,
      rpc,
      stats,
      nat,
      context,
      router,
      address,
      peer: { id: identity.publicKey, address },
    };
    this.nodes.push(node);
    return node;
  }

  /** Runs virtual time until `promise` settles (at most `maxMs`), then returns its outcome. */
  async settle<T>(promise: Promise<T>, maxMs = 60_000, stepMs = 10): Promise<T> {
    let done = false;
    const tracked = promise.finally(() => (done = true));
    tracked.catch(() => {});
    for (let waited = 0; !done && waited < maxMs; waited += stepMs) await this.clock.run(stepMs);
    return tracked;
  }

  /** Stops every node's NAT service and closes its transport. */
  async close(): Promise<void> {
    for (const node of this.nodes) {
      node.nat.stop();
      node.rpc.close();
      await node.transport.close();
    }
  }
}
