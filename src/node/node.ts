/**
 * `MccNode` wires the modules together: transport -> session -> RPC -> protocol
 * modules, with one tracked clock so that `stop()` leaves no timer behind.
 */
import { EventEmitter } from 'eventemitter3';
import type { Address } from '../util/address.js';
import { formatAddress, isIpLiteral, toAddress } from '../util/address.js';
import { TrackedClock, systemClock } from '../util/clock.js';
import { Stats, type StatsSnapshot } from '../util/stats.js';
import { childLogger, defaultLogger, type Logger } from '../util/logger.js';
import { bytesToHex, hexToBytes } from '../util/bytes.js';
import { MccError, invalidArgument, throwIfAborted } from '../errors.js';
import type { CryptoSuite, KeyPair } from '../crypto/types.js';
import { resolveIdentity } from '../crypto/identity.js';
import { NodeConsortium, resolveConsortiumOptions, type ConsortiumStats, type ResolvedConsortiumOptions } from './consortium.js';
import type { Transport } from '../transport/types.js';
import { UdpTransport } from '../transport/udp.js';
import { SessionLayer, type InboundMessage, type SessionPeer } from '../session/session.js';
import { RpcLayer } from '../session/rpc.js';
import { RequestBudget } from '../session/request-budget.js';
import { canReach, reachOf } from '../transport/reach.js';
import { subnetGroup } from '../kademlia/subnet.js';
import { toSocketAddress } from '../wire/address.js';
import { Dht } from '../kademlia/dht.js';
import type { Contact } from '../kademlia/types.js';
import { RpcKadNetwork, serveKademlia } from '../kademlia/rpc-network.js';
import { Discovery } from '../discovery/discovery.js';
import { attachLiveWatch, watchStats, type LiveWatchAttachment, type WatchStats } from '../discovery/watch-rpc.js';
import type { Registration } from '../discovery/registration.js';
import type { Provider } from '../discovery/provider-record.js';
import type { WatchEvent } from '../discovery/watch.js';
import { serviceTarget, type RegisterServiceOptions, type ServiceTarget } from './service-targets.js';
import { localAddresses } from '../util/interfaces.js';
import { writeRoutingFile } from './routing-file.js';
import { LAN_JOIN_WAIT_MS, NodeLan, inactiveLanStats, lanSettings, type NodeLanStats } from './lan.js';
import { openDataDir, type DataDir, type SavedNodeState } from './persistence.js';
import { NodePersistence } from './persistence-runtime.js';
import { gatherSeeds } from './join.js';
import { TunnelDriver } from '../tunnel/driver.js';
import { TunnelService, type ConnectOptions } from './tunnel-service.js';
import type { Forward, ForwardOptions } from './forward.js';
import { Failover } from '../discovery/failover.js';
import { checkStrategy, type Strategy } from '../discovery/load-balancing.js';
import { PACKET_TUNNEL } from '../wire/constants.js';
import type { Duplex } from 'node:stream';
import { RelayTransport } from '../nat/relay-transport.js';
import { isVirtualAddress } from '../nat/relay-packet.js';
import { NodeNat, type NatStatus } from './nat.js';
import { PeerTable } from './peers.js';
import { pingAddress } from './ping.js';
import { checkNodeOptions, resolveCryptoOption } from './options.js';
import { inspect } from 'node:util';
import { countedSends } from '../transport/counted.js';
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

/** How long stop() waits for withdrawals to reach the network. */
const STOP_WITHDRAW_MS = 2000;

type State = 'created' | 'starting' | 'started' | 'stopping' | 'stopped';

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
  private readonly strategy: Strategy;
  private seeds: Contact[] = [];
  private readonly routingFile: string | undefined;
  /** LAN discovery; undefined when off (`lan: false`, a custom transport, `MCC_LAN=off`). */
  private readonly lan: NodeLan | undefined;
  /** The data directory's part of a running node; undefined without `dataDir`. */
  private readonly persistence: NodePersistence | undefined;
  private readonly identity: KeyPair;
  private readonly counters = new Stats();
  private readonly peerTable = new PeerTable();
  private readonly lookedUp = new RecentLookups();
  /** Providers that failed to answer a connect, shared by every connect until they answer again. */
  private readonly failover: Failover;
  private readonly wallClock: () => number;
  private readonly bootstrapAddresses: Address[];
  private state: State = 'created';
  /** The close in progress, which every stop() call shares. */
  private stopping: Promise<void> | undefined;
  private bound: Address | undefined;
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
    this.failover = new Failover({ clock: this.clock });
    this.resolvesIpOnly = options.transport === undefined;
    this.bootstrapAddresses = (options.bootstrap ?? []).map((entry, index) => this.checkHost(toAddress(entry, `bootstrap[${index}]`), `bootstrap[${index}]`));
    // Session and tunnel traffic may ride relay circuits: the socket is wrapped once, here.
    const relayTransport = new RelayTransport(options.transport ?? new UdpTransport({ host: options.host, port: options.port ?? 0 }));
    this.transport = relayTransport;
    const requestBudget = options.requestBudget === false ? false : new RequestBudget(this.clock, { networkOf: subnetGroup, ...options.requestBudget });
    this.session = new SessionLayer({
      identity,
      suite,
      transport: this.transport,
      clock: this.clock,
      stats: this.counters,
      ...(requestBudget ? { shed: (from: Address) => requestBudget.shouldShed(from) } : {}),
      logger: childLogger(this.logger, 'session'),
    });
    this.rpc = new RpcLayer(this.session, this.clock, this.counters, { defaultTimeoutMs: this.requestTimeoutMs, requestBudget });
    this.session.onMessage((message) => {
      if (this.nat.isKademliaOverCircuit(message)) {
        this.counters.drop('unexpected');
        return;
      }
      this.observePeer(message);
      this.rpc.receive(message);
    });
    this.rpc.handle('ping', (request) => ({ pong: { observed: toSocketAddress(request.from.address) } }));
    const network = new RpcKadNetwork({
      rpc: this.rpc,
      clientMode: () => this.kad.clientMode,
      onAnswer: (contact) => {
        if (!isVirtualAddress(contact.address)) this.kad.observe(contact);
      },
      reachable: (address) => canReach(reachOf(this.bound), address),
    });
    this.kad = new Dht({
      id: identity.publicKey,
      suite,
      clock: this.clock,
      network,
      clientMode: options.clientMode ?? false,
      ...(options.wallClock ? { wallClock: options.wallClock } : {}),
    });
    serveKademlia(this.rpc, this.kad);
    this.liveWatch = attachLiveWatch({ rpc: this.rpc, kad: this.kad, clock: this.clock, wallClock: this.wallClock });
    this.discovery = new Discovery({
      dht: this.kad,
      suite,
      keyPair: identity,
      clock: this.clock,
      ...(options.wallClock ? { wallClock: options.wallClock } : {}),
      selfInfo: () => this.nat.selfInfo(this.advertisedAddresses()),
      rtt: (nodeId) => this.rpc.rtt(nodeId),
      rejoin: () => (this.seeds.length > 0 ? this.kad.bootstrap(this.seeds) : Promise.resolve()),
      logger: childLogger(this.logger, 'discovery'),
      liveWatch: this.liveWatch.network,
    });
    this.strategy = options.strategy ?? 'random';
    this.routingFile = options.routingTable;
    this.tunnels = new TunnelDriver({ transport: countedSends(this.transport, this.counters), clock: this.clock, suite, identity, config: options.tunnel });
    this.session.onRawDatagram(PACKET_TUNNEL, (data, from) => {
      if (!this.tunnels.handleDatagram(data, this.nat.paths.tunnelSource(from))) this.counters.drop('unexpected');
    });
    // A peer that restarted (a newer boot ID) lost its tunnel connections: close ours to it at
    // once, so the next connect() opens a new one instead of riding a dead one to its idle timeout.
    this.session.onPeerRestart((peerHex) => {
      for (const connection of this.tunnels.connections) {
        if (connection.closed || bytesToHex(connection.peer) !== peerHex) continue;
        this.logger.debug(`peer ${peerHex.slice(0, 8)} restarted: closing its old tunnel connection`);
        connection.close(undefined, 'peer restarted');
      }
    });
    this.nat = new NodeNat({
      transport: relayTransport,
      clock: this.clock,
      rpc: this.rpc,
      session: this.session,
      crypto: suite,
      kad: this.kad,
      tunnels: this.tunnels,
      logger: childLogger(this.logger, 'nat'),
      bound: () => this.bound,
      seeds: () => this.seeds,
      peers: () => this.peerTable.values(),
      forceClientMode: options.clientMode === true,
      relay: options.relay,
      republish: () => void this.discovery.refresh().catch(() => {}),
      options: {
        ...options.nat,
        ...(options.nat?.openSocket || options.transport ? {} : { openSocket: () => this.openExtraSocket() }),
      },
    });
    this.nat.on('change', (status) => this.emit('nat', status));
    this.consortium = options.consortium
      ? new NodeConsortium(options.consortium as ResolvedConsortiumOptions, {
          rpc: this.rpc,
          suite,
          identity,
          clock: this.clock,
          wallClock: this.wallClock,
          discovery: this.discovery,
          kad: this.kad,
          tunnels: this.tunnels,
          relay: this.nat.service.relayServer,
          logger: childLogger(this.logger, 'consortium'),
        })
      : undefined;
    this.tunnelService = new TunnelService({
      driver: this.tunnels,
      rpc: this.rpc,
      services: this.services,
      failover: this.failover,
      onTunnel: (event, connection) => this.emit(event === 'open' ? 'tunnel-open' : 'tunnel-close', tunnelInfo(connection)),
      logger: childLogger(this.logger, 'tunnel'),
      defaultStrategy: () => this.strategy,
      lookup: (name, signal, fresh) => (this.consortium ?? this.discovery).lookup(name, { ...(signal ? { signal } : {}), ...(fresh ? { fresh } : {}) }),
      clock: this.clock,
      addressOf: (nodeId) => this.addressOf(nodeId),
      paths: this.nat.paths,
      reachable: (address) => canReach(reachOf(this.bound), address),
      ...(this.consortium ? { admission: this.consortium } : {}),
    });
    this.lan = this.createLan(options);
    this.persistence = dataDir
      ? new NodePersistence(dataDir.dir, dataDir.saved, {
          clock: this.clock,
          logger: childLogger(this.logger, 'persistence'),
          running: () => this.state === 'started',
          registrations: () => this.registrations(),
          routing: () => this.kad.snapshot(),
          republish: (service, sealed) =>
            this.discovery.register(service.name, {
              ...(service.metadata !== undefined ? { metadata: service.metadata } : {}),
              ...(service.ttl ? { ttl: service.ttl } : {}),
              ...sealed,
            }),
          consortium: this.consortium,
        })
      : undefined;
    // Collaborators stay reachable for the package's own modules but out of Object.keys,
    // spreads and JSON; inspect shows the summary below.
    for (const key of Object.keys(this)) if (key !== 'id' && key !== 'idHex') Object.defineProperty(this, key, { enumerable: false });
  }

  /** What `console.log(node)` and `util.inspect(node)` show: identity and state, never keys or internals. */
  [inspect.custom](): string {
    return `MccNode { id: '${this.idHex}', state: '${this.state}', address: ${this.bound ? `'${formatAddress(this.bound)}'` : 'undefined'} }`;
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
    return { id: this.idHex, state: this.state, address: this.bound ? formatAddress(this.bound) : null };
  }

  /** A second UDP socket on the bound host, for hole punching from a symmetric NAT. */
  private async openExtraSocket(): Promise<Transport> {
    const socket = new UdpTransport({ host: this.bound?.host, port: 0 });
    await socket.bind();
    return socket;
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

  private addressOf(nodeId: Uint8Array): Address | undefined {
    const hex = bytesToHex(nodeId);
    const peer = this.peerTable.peek(hex);
    if (peer) return peer.address;
    return this.kad.closestContacts(this.kad.positions.of(nodeId), undefined, 20).find((contact) => bytesToHex(contact.id) === hex)?.address;
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
    const restored = this.discovery.registration(name);
    if (restored && this.persistence?.adopt(name, options.visibility)) {
      this.services.set(name, target);
      if (JSON.stringify(restored.metadata) !== JSON.stringify(options.metadata))
        await restored.update(options.metadata, options.signal ? { signal: options.signal } : {});
      await this.persistence.saveState();
      return restored;
    }
    if (restored) throw invalidArgument('name', `"${name}" is already registered on this node`);
    if (options.visibility !== undefined && options.visibility !== 'public' && this.consortium === undefined) {
      throw invalidArgument('visibility', 'restricted services need consortium mode (MccNode.create({ consortium }))');
    }
    const sealed = this.consortium?.prepareRegistration(name, options.visibility, options.metadata) ?? {};
    // The service is reachable before its record is published: a client that finds the
    // record at once must not have its stream refused.
    this.services.set(name, target);
    try {
      const registration = await this.discovery.register(name, {
        ...(options.metadata !== undefined ? { metadata: options.metadata } : {}),
        ...(options.ttl !== undefined ? { ttl: options.ttl } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...sealed,
      });
      await this.persistence?.saveState();
      this.emit('registered', name);
      return registration;
    } catch (error) {
      if (this.services.get(name) === target && !this.discovery.registration(name)) {
        this.services.delete(name);
        this.consortium?.forget(name);
      }
      throw error;
    }
  }

  /**
   * Withdraws this node's registration of `name`; false when it had none. The service stops
   * taking streams at once; `signal` stops waiting for the withdrawal to reach the network
   * (it is still retried in the background).
   */
  async unregister(name: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    const registration = this.discovery.registration(name);
    this.services.delete(name);
    this.consortium?.forget(name);
    if (!registration) return false;
    this.persistence?.adopt(name);
    try {
      await registration.unregister(options);
    } finally {
      await this.persistence?.saveState();
    }
    this.emit('unregistered', name);
    return true;
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
    return this.discovery.registeredNames().flatMap((name) => {
      const registration = this.discovery.registration(name);
      const target = this.services.get(name);
      if (!registration || !target) return [];
      const visibility = this.consortium?.visibilityOf(name);
      return [
        {
          name,
          state: registration.state,
          target: target.kind === 'tcp' ? { kind: 'tcp' as const, host: target.host, port: target.port } : { kind: 'handler' as const },
          metadata: registration.metadata,
          ttlMs: registration.ttlMs,
          stored: registration.stored,
          ...(visibility !== undefined ? { visibility } : {}),
        },
      ];
    });
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

  /**
   * Our own addresses, for provider records after the NAT module's public address (the
   * most common one across observers: the latest single report is not used, since one
   * lying peer could otherwise put any address, a victim's, into our records).
   */
  private advertisedAddresses(): Address[] {
    return this.bound ? localAddresses(this.bound) : [];
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
    if (this.state !== 'created') {
      throw new MccError(this.state === 'stopped' ? 'ERR_STOPPED' : 'ERR_ALREADY_STARTED', `cannot start a node that is ${this.state}`);
    }
    throwIfAborted(options.signal);
    this.state = 'starting';
    try {
      this.bound = await this.transport.bind();
    } catch (error) {
      if (this.state !== 'starting') throw stoppedDuringStart();
      this.state = 'stopped';
      throw error instanceof MccError ? error : new MccError('ERR_TRANSPORT', 'could not bind the transport', { cause: error });
    }
    if (this.state !== 'starting') throw stoppedDuringStart(); // stop() ran meanwhile and closes the transport
    this.state = 'started';
    this.logger.info(`listening on ${formatAddress(this.bound)}`);
    this.emit('started', { id: this.idHex, address: this.bound });
    try {
      this.nat.start();
      // Saved services take streams before the join: clients holding the records published
      // before a restart reach this node (same ID, same port) at once.
      for (const [name, target] of this.persistence?.targets() ?? []) if (!this.services.has(name)) this.services.set(name, target);
      await this.persistence?.bound(this.bound.port);
      await this.lan?.start(this.bound);
      await this.bootstrap(options.signal);
      throwIfAborted(options.signal);
      if (this.state !== 'started') throw stoppedDuringStart();
      this.nat.joined();
      this.consortium?.start();
      await this.persistence?.joined();
    } catch (error) {
      // Aborted or stopped half-way: leave nothing running (stop() joins a close in progress).
      await this.stop();
      throw error;
    }
  }

  /** Closes every socket and timer this node opened; idempotent (a second call resolves when the first is done). */
  stop(): Promise<void> {
    if (this.state === 'stopped') return Promise.resolve();
    this.stopping ??= this.close();
    return this.stopping;
  }

  private async close(): Promise<void> {
    const wasRunning = this.state !== 'created';
    this.state = 'stopping';
    if (wasRunning) await this.withdrawAll();
    // An empty table (a start aborted before the join, a node that never met anyone) must not
    // overwrite the peers saved last time: offline, they are the only way back in.
    const snapshot = this.kad.snapshot();
    if (wasRunning && this.routingFile && snapshot.contacts.length > 0) {
      await writeRoutingFile(this.routingFile, snapshot).catch((error: Error) => this.logger.warn(`could not save the routing table: ${error.message}`));
    }
    await this.tunnelService.close();
    await this.tunnels.close();
    this.nat.stop();
    this.persistence?.stop();
    await this.lan?.stop();
    this.liveWatch.stop();
    this.consortium?.stop();
    this.kad.stop();
    this.rpc.close();
    this.session.close();
    this.clock.clear();
    if (wasRunning) await this.transport.close();
    this.state = 'stopped';
    this.emit('stopped');
    this.removeAllListeners();
  }

  /** Publishes withdrawals of every registration, bounded in time so that stop() never hangs on a dead network. */
  private async withdrawAll(): Promise<void> {
    const controller = new AbortController();
    const timer = this.clock.setTimeout(() => controller.abort(), STOP_WITHDRAW_MS);
    try {
      await this.discovery.stop({ signal: controller.signal });
    } catch (error) {
      this.logger.debug(`withdrawals on stop incomplete: ${(error as Error).message}`);
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  /** True between `start()` and `stop()`. */
  get running(): boolean {
    return this.state === 'started';
  }

  /** The bound local address (throws before `start()`). */
  get address(): Address {
    if (!this.bound) throw new MccError('ERR_NOT_STARTED', 'node is not started');
    return this.bound;
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
    // lastSeen is kept on the node's clock; callers get wall-clock ms, comparable with Date.now().
    const offset = this.wallClock() - this.clock.now();
    return [...this.peerTable.values()].map((peer) => ({ ...peer, lastSeen: Math.round(peer.lastSeen + offset), rttMs: this.rpc.rtt(hexToBytes(peer.id)) }));
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

  /** LAN discovery as `options` ask for it (src/node/lan.ts). */
  private createLan(options: MccNodeOptions): NodeLan | undefined {
    const settings = lanSettings(options);
    if (!settings) return undefined;
    return new NodeLan(settings, {
      suite: this.crypto,
      identity: this.identity,
      clock: this.clock,
      wallClock: this.wallClock,
      logger: childLogger(this.logger, 'lan'),
      kad: this.kad,
      ping: (address, signal) => this.ping(address, { signal }),
      isKnown: (idHex, address) => {
        const peer = this.peerTable.peek(idHex);
        return peer !== undefined && peer.address.host === address.host && peer.address.port === address.port;
      },
      joinedThrough: (contact) => {
        if (this.seeds.length === 0) this.seeds = [contact];
        this.logger.info(`lan: joined the mesh through ${formatAddress(contact.address)}`);
        // Registrations published while alone reached nobody: publish them to the mesh now.
        void this.discovery.refresh().catch(() => undefined);
        void this.persistence?.saveRouting();
      },
    });
  }

  /** Refuses a hostname the built-in UDP transport cannot send to (it would only time out). */
  private checkHost(address: Address, argument: string): Address {
    if (this.resolvesIpOnly && !isIpLiteral(address.host)) {
      throw invalidArgument(argument, `"${address.host}" is not an IP address: hostnames are not resolved (use an IP, or "localhost")`);
    }
    return address;
  }

  private assertRunning(): void {
    if (this.state !== 'started') throw new MccError('ERR_NOT_STARTED', `node is ${this.state}, call start() first`);
  }

  private observePeer(message: InboundMessage): void {
    const added = this.peerTable.observe(message.fromHex, message.from.address, this.clock.now());
    // A provider a connect gave up on is tried first again once it shows life.
    this.failover.succeed(message.fromHex);
    if (!added) return;
    try {
      this.emit('peer', { ...added, lastSeen: this.wallClock() });
    } catch (error) {
      // A throwing 'peer' listener must not cost the message that introduced the peer.
      this.logger.warn(`a 'peer' listener threw: ${(error as Error)?.message ?? error}`);
    }
  }

  private async bootstrap(signal?: AbortSignal): Promise<void> {
    this.seeds = await gatherSeeds(
      {
        bootstrap: this.bootstrapAddresses,
        ping: (address, options) => this.ping(address, options),
        warn: (error) => {
          this.logger.warn(error.message);
          this.emit('warning', error);
        },
        routingFile: this.routingFile,
      },
      signal,
    );
    // No bootstrap node answered and nothing was saved: the peers heard on the LAN are the way
    // in. Waiting briefly for the first one means the first lookup after start() reaches them.
    if (this.seeds.length === 0 && this.lan) {
      await this.lan.firstPeer(LAN_JOIN_WAIT_MS, signal);
      this.seeds = this.lan.contacts();
    }
    // stop() may have run during the awaits above: starting the DHT now would arm its
    // maintenance timer on a stopped node, and that timer re-arms itself forever.
    if (this.state !== 'started') throw stoppedDuringStart();
    await this.kad.start(this.seeds, signal);
  }
}

function stoppedDuringStart(): MccError {
  return new MccError('ERR_STOPPED', 'the node was stopped while starting');
}

export type { SessionPeer };
