/**
 * `MccNode`, the public face of a node: option checks and thin delegations. Its parts
 * (transport -> session -> RPC -> protocol modules, src/node/wiring.ts and compose.ts) share
 * one tracked clock so that `stop()` (src/node/lifecycle.ts) leaves no timer behind.
 */
import { EventEmitter } from 'eventemitter3';
import { inspect } from 'node:util';
import type { Duplex } from 'node:stream';
import type { Address } from '../util/address.js';
import { formatAddress, isIpLiteral, toAddress } from '../util/address.js';
import { TrackedClock, systemClock } from '../util/clock.js';
import { Stats, type StatsSnapshot } from '../util/stats.js';
import { defaultLogger, type Logger } from '../util/logger.js';
import { bytesToHex } from '../util/bytes.js';
import { MccError, invalidArgument, throwIfAborted } from '../errors.js';
import type { CryptoSuite, KeyPair } from '../crypto/types.js';
import { resolveIdentity } from '../crypto/identity.js';
import type { Transport } from '../transport/types.js';
import type { SessionLayer, SessionPeer } from '../session/session.js';
import type { RpcLayer } from '../session/rpc.js';
import type { Dht } from '../kademlia/dht.js';
import type { Discovery } from '../discovery/discovery.js';
import { watchStats, type LiveWatchAttachment, type WatchStats } from '../discovery/watch-rpc.js';
import type { Registration } from '../discovery/registration.js';
import type { Provider } from '../discovery/provider-record.js';
import type { WatchEvent } from '../discovery/watch.js';
import { Failover } from '../discovery/failover.js';
import { checkStrategy } from '../discovery/load-balancing.js';
import type { TunnelDriver } from '../tunnel/driver.js';
import { resolveConsortiumOptions, type ConsortiumStats, type NodeConsortium } from './consortium.js';
import { serviceTarget, type RegisterServiceOptions, type ServiceTarget } from './service-targets.js';
import { inactiveLanStats, type NodeLan, type NodeLanStats } from './lan.js';
import { openDataDir, type DataDir, type SavedNodeState } from './persistence.js';
import type { TunnelService } from './tunnel-service.js';
import type { ConnectOptions } from './tunnel-service-types.js';
import type { Forward, ForwardOptions } from './forward.js';
import type { NatStatus, NodeNat } from './nat.js';
import { PeerTable, peerList } from './peers.js';
import { pingAddress } from './ping.js';
import { checkNodeOptions, resolveCryptoOption } from './options.js';
import { composeNode } from './compose.js';
import { NodeLifecycle } from './lifecycle.js';
import { listRegistrations, registerService, unregisterService, type RegistrationContext } from './registrations.js';
import {
  RecentLookups,
  moduleStats,
  tunnelInfo,
  type ModuleStats,
  type ForwardInfo,
  type LookupInfo,
  type ServiceInfo,
  type TunnelInfo,
} from './introspection.js';

export type { MccNodeOptions, MccDht, PingResult, PeerInfo, MccNodeEvents } from './types.js';
import type { MccNodeOptions, MccDht, PingResult, PeerInfo, MccNodeEvents } from './types.js';

/** A node of the mesh. Create with {@link MccNode.create}, then {@link MccNode.start}. */
export class MccNode extends EventEmitter<MccNodeEvents> {
  /** The node ID: the 32-byte Ed25519 public key. */
  readonly id: Uint8Array;
  /** The node ID in hex. */
  readonly idHex: string;
  /** The crypto suite in use. */
  readonly crypto: CryptoSuite;
  /** @internal */ readonly clock: TrackedClock;
  /** @internal */ readonly session: SessionLayer;
  /** @internal */ readonly rpc: RpcLayer;
  /** @internal */ readonly transport: Transport;
  /** @internal */ readonly logger: Logger;
  /** @internal the full Kademlia DHT (discovery and NAT build on it). */
  readonly kad: Dht;
  /** @internal service discovery. */
  readonly discovery: Discovery;
  /** @internal where incoming streams of each registered service go. */
  readonly services = new Map<string, ServiceTarget>();
  /** @internal tunnel connections of this node. */
  readonly tunnels: TunnelDriver;
  /** @internal NAT traversal (src/node/nat.ts). */
  readonly nat: NodeNat;
  /** @internal live watch: subscriptions held here for others, and the wire side of this node's watches. */
  readonly liveWatch: LiveWatchAttachment;
  private readonly tunnelService: TunnelService;
  /** @internal consortium mode (src/node/consortium.ts); undefined on a public-mesh node. */
  readonly consortium: NodeConsortium | undefined;
  /** State, bound address and join seeds; start() and stop() (src/node/lifecycle.ts). */
  private readonly lifecycle: NodeLifecycle;
  /** LAN discovery; undefined when off (`lan: false`, a custom transport, `MCC_LAN=off`). */
  private readonly lan: NodeLan | undefined;
  private readonly registry: RegistrationContext;
  private readonly identity: KeyPair;
  private readonly counters = new Stats();
  private readonly peerTable = new PeerTable();
  private readonly lookedUp = new RecentLookups();
  private readonly wallClock: () => number;
  private readonly requestTimeoutMs: number;
  /** The built-in UDP transport sends to IP literals only (no DNS): other hosts are refused up front. */
  private readonly resolvesIpOnly: boolean;

  private constructor(options: MccNodeOptions, identity: KeyPair, suite: CryptoSuite, dataDir?: { dir: DataDir; saved: SavedNodeState }) {
    super();
    this.identity = identity;
    this.id = identity.publicKey;
    this.idHex = bytesToHex(identity.publicKey);
    this.crypto = suite;
    this.logger = options.logger ?? defaultLogger(`mcc ${this.idHex.slice(0, 8)}`);
    this.clock = new TrackedClock(options.clock ?? systemClock);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 4000;
    this.wallClock = options.wallClock ?? Date.now;
    this.resolvesIpOnly = options.transport === undefined;
    const bootstrap = (options.bootstrap ?? []).map((entry, index) => this.checkHost(toAddress(entry, `bootstrap[${index}]`), `bootstrap[${index}]`));
    const parts = composeNode(
      {
        options,
        identity,
        suite,
        idHex: this.idHex,
        clock: this.clock,
        wallClock: this.wallClock,
        logger: this.logger,
        counters: this.counters,
        requestTimeoutMs: this.requestTimeoutMs,
        services: this.services,
        // Providers that failed to answer a connect, shared by every connect until they answer again.
        failover: new Failover({ clock: this.clock }),
        peerTable: this.peerTable,
        bootstrap,
        dataDir,
      },
      { events: this, ping: (address, pingOptions) => this.ping(address, pingOptions) },
    );
    this.transport = parts.transport;
    this.session = parts.session;
    this.rpc = parts.rpc;
    this.kad = parts.kad;
    this.liveWatch = parts.liveWatch;
    this.discovery = parts.discovery;
    this.tunnels = parts.tunnels;
    this.nat = parts.nat;
    this.consortium = parts.consortium;
    this.tunnelService = parts.tunnelService;
    this.lan = parts.lan;
    this.registry = parts.registry;
    this.lifecycle = parts.lifecycle;
    // Collaborators stay reachable for the package's own modules but out of Object.keys,
    // spreads and JSON; inspect shows the summary below.
    for (const key of Object.keys(this)) if (key !== 'id' && key !== 'idHex') Object.defineProperty(this, key, { enumerable: false });
  }

  /** What `console.log(node)` and `util.inspect(node)` show: identity and state, never keys or internals. */
  [inspect.custom](): string {
    const { state, bound } = this.lifecycle;
    return `MccNode { id: '${this.idHex}', state: '${state}', address: ${bound ? `'${formatAddress(bound)}'` : 'undefined'} }`;
  }

  /** The JSON form of a node: its ID, state and address (no keys, no internals). */
  toJSON(): {
    /** Node ID, hex. */
    id: string;
    /** Lifecycle state: `created`, `starting`, `started`, `stopping` or `stopped`. */
    state: string;
    /** The bound UDP address as `host:port`; null when not bound. */
    address: string | null;
  } {
    const { state, bound } = this.lifecycle;
    return { id: this.idHex, state, address: bound ? formatAddress(bound) : null };
  }

  /**
   * Opens a stream to a provider of `target`: a service name (providers are looked up,
   * one is picked by the strategy, failed ones are skipped and the next tried), or a node
   * ID in hex with `options.service`. The stream is a `node:stream` Duplex, end-to-end
   * encrypted with forward secrecy.
   */
  async connect(target: string, options: ConnectOptions = {}): Promise<Duplex> {
    if (options.strategy !== undefined) checkStrategy(options.strategy);
    this.assertRunning();
    return this.tunnelService.connect(target, options);
  }

  /**
   * Listens on a local TCP port (`127.0.0.1` unless `host` says otherwise); every
   * connection to it becomes one stream to a provider of `name`. Unmodified applications
   * then reach the service as `localhost:port`.
   */
  async forward(name: string, options: ForwardOptions): Promise<Forward> {
    if (options?.strategy !== undefined) checkStrategy(options.strategy);
    this.assertRunning();
    return this.tunnelService.forward(name, options);
  }

  /**
   * Registers this node as a provider of `name`: incoming streams go to the TCP service at
   * `{ port, host }` or to `handler`. Many nodes may register the same name. The signed
   * record is republished until `unregister()` or `stop()`, which publish a withdrawal.
   * With `dataDir`, TCP registrations are saved and come back by themselves after a restart;
   * registering such a restored name again takes it over (its target and metadata).
   */
  async register(name: string, options: RegisterServiceOptions): Promise<Registration> {
    const target = serviceTarget(options);
    this.assertRunning();
    return registerService(this.registry, name, target, options);
  }

  /**
   * Withdraws this node's registration of `name`; false when it had none. The service stops
   * taking streams at once; `signal` stops waiting for the withdrawal to reach the network
   * (it is still retried in the background).
   */
  async unregister(name: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    return unregisterService(this.registry, name, options);
  }

  /** All live providers of `name` (signatures checked, expired and withdrawn ones dropped), with metadata and RTT where measured. */
  async lookup(name: string, options: { limit?: number; signal?: AbortSignal; fresh?: boolean } = {}): Promise<Provider[]> {
    this.assertRunning();
    const providers = await (this.consortium ?? this.discovery).lookup(name, options);
    this.lookedUp.record(name, providers, this.wallClock());
    return providers;
  }

  /** The services this node provides (its registrations), in registration order. */
  registrations(): ServiceInfo[] {
    return listRegistrations(this.registry);
  }

  /** The local port forwards this node listens on. */
  forwards(): ForwardInfo[] {
    return this.tunnelService.forwardList();
  }

  /** Closes the forward listening on local `port` (as `Forward.close()` does); false when there is none. */
  async closeForward(port: number): Promise<boolean> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalidArgument('port', 'expected an integer 1..65535');
    return this.tunnelService.closeForward(port);
  }

  /** Live tunnel connections to other nodes (each carries any number of streams). */
  tunnelConnections(): TunnelInfo[] {
    return this.tunnels.connections.filter((connection) => !connection.closed).map(tunnelInfo);
  }

  /** The providers found by the latest lookups of up to 32 names, most recent last. */
  recentLookups(): LookupInfo[] {
    return this.lookedUp.list();
  }

  /**
   * Providers of `name` as they come and go: `added`, `updated` and `removed` events until `signal` aborts.
   * The first events are `added` for the providers that exist already. Live: the nodes holding
   * the name's records push changes, so an event arrives within one round trip of the register or
   * unregister that caused it; when no holder accepts a subscription it polls every `intervalMs`
   * (default 5 s) instead. `live: false` always polls.
   */
  watch(name: string, options: { signal?: AbortSignal; intervalMs?: number; live?: boolean } = {}): AsyncIterable<WatchEvent> {
    this.assertRunning();
    return (this.consortium ?? this.discovery).watch(name, options);
  }

  /** The DHT: `put` and `get` of small values. */
  get dht(): MccDht {
    return this.kad;
  }

  /** Validates options and builds a node (not yet listening). */
  static async create(options: MccNodeOptions = {}): Promise<MccNode> {
    const suite = await resolveCryptoOption(checkNodeOptions(options));
    // The credential file is read here: the constructor is synchronous.
    if (options.consortium !== undefined) options = { ...options, consortium: await resolveConsortiumOptions(options.consortium) };
    if (options.dataDir === undefined) return new MccNode(options, await resolveIdentity(options.identity, suite), suite);
    const opened = await openDataDir({ ...options, dataDir: options.dataDir }, suite, options.logger ?? defaultLogger('mcc'));
    const identity = opened.identity ?? (await resolveIdentity(options.identity, suite));
    return new MccNode(opened.options, identity, suite, { dir: opened.dir, saved: opened.saved });
  }

  /** Binds the transport and joins the mesh through the bootstrap nodes. */
  async start(options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.lifecycle.start(options.signal);
  }

  /** Closes every socket and timer this node opened; idempotent (a second call resolves when the first is done). */
  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  /** True between `start()` and `stop()`. */
  get running(): boolean {
    return this.lifecycle.state === 'started';
  }

  /** The bound local address (throws before `start()`). */
  get address(): Address {
    const bound = this.lifecycle.bound;
    if (!bound) throw new MccError('ERR_NOT_STARTED', 'node is not started');
    return bound;
  }

  /**
   * Pings a node by address: learns its ID, measures the round trip and how it sees us.
   * `timeoutMs` bounds the wait; with 3 attempts backing off from the peer's RTO, a silent
   * peer may be given up on earlier (see `RequestOptions.timeoutMs`).
   */
  async ping(target: string | Address, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<PingResult> {
    const address = this.checkHost(toAddress(target, 'target'), 'target');
    this.assertRunning();
    throwIfAborted(options.signal);
    const context = {
      clock: this.clock,
      session: this.session,
      rpc: this.rpc,
      peers: this.peerTable,
      observed: (peerHex: string, via: Address, observed: Address) => {
        this.nat.observed(peerHex, via, observed);
        this.emit('observed-address', observed, peerHex);
      },
    };
    return pingAddress(context, address, options.timeoutMs ?? this.requestTimeoutMs, options.signal);
  }

  /** Peers this node has exchanged authenticated messages with, most recent last. */
  peers(): PeerInfo[] {
    return peerList(this.peerTable, this.wallClock() - this.clock.now(), (id) => this.rpc.rtt(id));
  }

  /** A snapshot of the node's counters. */
  stats(): StatsSnapshot &
    ModuleStats & {
      /** Peers this node has exchanged authenticated messages with. */
      peers: number;
      /** The NAT verdict, relays, relay role and connect outcomes. */
      nat: NatStatus;
      /** Live watch: subscriptions held here for others, and this node's own watches. */
      watch: WatchStats;
      /** Name of the crypto suite in use (`'sodium'`, `'node'`, `'noble'` or a custom suite's name). */
      crypto: string;
      /** LAN discovery: interfaces announced on, announcements sent and heard, drops by reason, joins. */
      lan: NodeLanStats;
      /** Consortium mode: refusals, bad certificates, revocation list updates; absent on a public-mesh node. */
      consortium?: ConsortiumStats;
    } {
    return {
      ...this.counters.snapshot(),
      ...moduleStats({
        contacts: this.kad.table.size,
        records: this.kad.store.size,
        clientMode: this.kad.clientMode,
        connections: this.tunnels.connections,
        registered: this.services.size,
        forwards: this.tunnelService.forwardList().length,
      }),
      peers: this.peerTable.size,
      nat: this.nat.status(),
      watch: watchStats(this.liveWatch.table, this.discovery.liveWatchStats()),
      crypto: this.crypto.name,
      lan: this.lan?.stats() ?? inactiveLanStats(),
      ...(this.consortium ? { consortium: { ...this.consortium.stats } } : {}),
    };
  }

  /** @internal the identity key pair (for modules that sign records). */
  get keyPair(): KeyPair {
    return this.identity;
  }

  /** Refuses a hostname the built-in UDP transport cannot send to (it would only time out). */
  private checkHost(address: Address, argument: string): Address {
    if (this.resolvesIpOnly && !isIpLiteral(address.host)) {
      throw invalidArgument(argument, `"${address.host}" is not an IP address: hostnames are not resolved (use an IP, or "localhost")`);
    }
    return address;
  }

  private assertRunning(): void {
    const state = this.lifecycle.state;
    if (state !== 'started') throw new MccError('ERR_NOT_STARTED', `node is ${state}, call start() first`);
  }
}

export type { SessionPeer };
