/**
 * The layers of a node, built in dependency order: relay-wrapped transport -> session -> RPC
 * -> Kademlia -> live watch and discovery -> tunnels -> NAT -> consortium -> tunnel service.
 * The node keeps the parts; what the layers need from it (its bound address, seeds, peers,
 * events) comes through {@link WiringContext}, read lazily: only once the node runs.
 */
import type { Address } from '../util/address.js';
import type { TrackedClock } from '../util/clock.js';
import type { Stats } from '../util/stats.js';
import { childLogger, type Logger } from '../util/logger.js';
import { bytesToHex } from '../util/bytes.js';
import { localAddresses } from '../util/interfaces.js';
import type { CryptoSuite, KeyPair } from '../crypto/types.js';
import type { Transport } from '../transport/types.js';
import { UdpTransport } from '../transport/udp.js';
import { canReach, reachOf } from '../transport/reach.js';
import { countedSends } from '../transport/counted.js';
import { SessionLayer, type InboundMessage } from '../session/session.js';
import { RpcLayer } from '../session/rpc.js';
import { RequestBudget } from '../session/request-budget.js';
import { subnetGroup } from '../kademlia/subnet.js';
import { toSocketAddress } from '../wire/address.js';
import { PACKET_TUNNEL } from '../wire/constants.js';
import { Dht } from '../kademlia/dht.js';
import type { Contact } from '../kademlia/types.js';
import { RpcKadNetwork, serveKademlia } from '../kademlia/rpc-network.js';
import { Discovery } from '../discovery/discovery.js';
import { attachLiveWatch, type LiveWatchAttachment } from '../discovery/watch-rpc.js';
import type { Failover } from '../discovery/failover.js';
import type { Strategy } from '../discovery/load-balancing.js';
import { TunnelDriver } from '../tunnel/driver.js';
import type { TunnelConnection } from '../tunnel/tunnel-connection.js';
import { RelayTransport } from '../nat/relay-transport.js';
import { isVirtualAddress } from '../nat/relay-packet.js';
import { NodeConsortium, type ResolvedConsortiumOptions } from './consortium.js';
import { NodeNat, type NatStatus } from './nat.js';
import { TunnelService } from './tunnel-service.js';
import type { ServiceTarget } from './service-targets.js';
import type { MccNodeOptions, PeerInfo } from './types.js';

/** What the node has made before the layers: identity, clock, logger, shared tables. */
export interface WiringBase {
  options: MccNodeOptions;
  identity: KeyPair;
  suite: CryptoSuite;
  clock: TrackedClock;
  wallClock: () => number;
  logger: Logger;
  counters: Stats;
  requestTimeoutMs: number;
  /** Where incoming streams of each registered service go. */
  services: Map<string, ServiceTarget>;
  /** Providers that failed to answer a connect, shared by every connect. */
  failover: Failover;
}

/** What the layers ask of the node once it runs. */
export interface WiringContext {
  /** The bound address; undefined before start(). */
  bound(): Address | undefined;
  /** The nodes the join went through. */
  seeds(): Contact[];
  /** Peers the node exchanged authenticated messages with. */
  peers(): Iterable<PeerInfo>;
  /** An authenticated message arrived (peer table, failover, 'peer' event). */
  observePeer(message: InboundMessage): void;
  /** Address of a node by ID when the node knows it. */
  addressOf(nodeId: Uint8Array): Address | undefined;
  /** The NAT verdict, relays or public address changed ('nat' event). */
  natChanged(status: NatStatus): void;
  /** A tunnel connection came up or closed ('tunnel-open' / 'tunnel-close' events). */
  tunnel(event: 'open' | 'close', connection: TunnelConnection): void;
}

/** The layers of one node. */
export interface NodeLayers {
  transport: Transport;
  session: SessionLayer;
  rpc: RpcLayer;
  kad: Dht;
  liveWatch: LiveWatchAttachment;
  discovery: Discovery;
  tunnels: TunnelDriver;
  nat: NodeNat;
  consortium: NodeConsortium | undefined;
  tunnelService: TunnelService;
}

/** Builds the layers of a node (nothing is bound or started: `start()` does that). */
export function buildLayers(base: WiringBase, context: WiringContext): NodeLayers {
  const { options, identity, suite, clock, logger, counters } = base;
  // Session and tunnel traffic may ride relay circuits: the socket is wrapped once, here.
  const transport = new RelayTransport(options.transport ?? new UdpTransport({ host: options.host, port: options.port ?? 0 }));
  const requestBudget = options.requestBudget === false ? false : new RequestBudget(clock, { networkOf: subnetGroup, ...options.requestBudget });
  const session = new SessionLayer({
    identity,
    suite,
    transport,
    clock,
    stats: counters,
    ...(requestBudget ? { shed: (from: Address) => requestBudget.shouldShed(from) } : {}),
    logger: childLogger(logger, 'session'),
  });
  const rpc = new RpcLayer(session, clock, counters, { defaultTimeoutMs: base.requestTimeoutMs, requestBudget });
  session.onMessage((message) => {
    if (nat.isKademliaOverCircuit(message)) {
      counters.drop('unexpected');
      return;
    }
    context.observePeer(message);
    rpc.receive(message);
  });
  rpc.handle('ping', (request) => ({ pong: { observed: toSocketAddress(request.from.address) } }));
  const reachable = (address: Address): boolean => canReach(reachOf(context.bound()), address);
  const network = new RpcKadNetwork({
    rpc,
    clientMode: (): boolean => kad.clientMode,
    onAnswer: (contact) => {
      if (!isVirtualAddress(contact.address)) kad.observe(contact);
    },
    reachable,
  });
  const kad: Dht = new Dht({
    id: identity.publicKey,
    suite,
    clock,
    network,
    clientMode: options.clientMode ?? false,
    ...(options.wallClock ? { wallClock: options.wallClock } : {}),
  });
  serveKademlia(rpc, kad);
  const liveWatch = attachLiveWatch({ rpc, kad, clock, wallClock: base.wallClock });
  const discovery = new Discovery({
    dht: kad,
    suite,
    keyPair: identity,
    clock,
    ...(options.wallClock ? { wallClock: options.wallClock } : {}),
    // Our own addresses, after the NAT module's public address (the most common one across
    // observers: the latest single report is not used, since one lying peer could otherwise
    // put any address, a victim's, into our records).
    selfInfo: () => nat.selfInfo(advertisedAddresses(context.bound())),
    rtt: (nodeId) => rpc.rtt(nodeId),
    rejoin: () => (context.seeds().length > 0 ? kad.bootstrap(context.seeds()) : Promise.resolve()),
    logger: childLogger(logger, 'discovery'),
    liveWatch: liveWatch.network,
  });
  const strategy: Strategy = options.strategy ?? 'random';
  const tunnels = new TunnelDriver({ transport: countedSends(transport, counters), clock, suite, identity, config: options.tunnel });
  session.onRawDatagram(PACKET_TUNNEL, (data, from) => {
    if (!tunnels.handleDatagram(data, nat.paths.tunnelSource(from))) counters.drop('unexpected');
  });
  // A peer that restarted (a newer boot ID) lost its tunnel connections: close ours to it at
  // once, so the next connect() opens a new one instead of riding a dead one to its idle timeout.
  session.onPeerRestart((peerHex) => {
    for (const connection of tunnels.connections) {
      if (connection.closed || bytesToHex(connection.peer) !== peerHex) continue;
      logger.debug(`peer ${peerHex.slice(0, 8)} restarted: closing its old tunnel connection`);
      connection.close(undefined, 'peer restarted');
    }
  });
  const nat: NodeNat = new NodeNat({
    transport,
    clock,
    rpc,
    session,
    crypto: suite,
    kad,
    tunnels,
    logger: childLogger(logger, 'nat'),
    bound: () => context.bound(),
    seeds: () => context.seeds(),
    peers: () => context.peers(),
    forceClientMode: options.clientMode === true,
    relay: options.relay,
    republish: () => void discovery.refresh().catch(() => {}),
    options: {
      ...options.nat,
      ...(options.nat?.openSocket || options.transport ? {} : { openSocket: () => openExtraSocket(context.bound()) }),
    },
  });
  nat.on('change', (status) => context.natChanged(status));
  const consortium = options.consortium
    ? new NodeConsortium(options.consortium as ResolvedConsortiumOptions, {
        rpc,
        suite,
        identity,
        clock,
        wallClock: base.wallClock,
        discovery,
        kad,
        tunnels,
        relay: nat.service.relayServer,
        logger: childLogger(logger, 'consortium'),
      })
    : undefined;
  const tunnelService = new TunnelService({
    driver: tunnels,
    rpc,
    services: base.services,
    failover: base.failover,
    onTunnel: (event, connection) => context.tunnel(event, connection),
    logger: childLogger(logger, 'tunnel'),
    defaultStrategy: () => strategy,
    lookup: (name, signal, fresh) => (consortium ?? discovery).lookup(name, { ...(signal ? { signal } : {}), ...(fresh ? { fresh } : {}) }),
    clock,
    addressOf: (nodeId) => context.addressOf(nodeId),
    paths: nat.paths,
    reachable,
    ...(consortium ? { admission: consortium } : {}),
  });
  return { transport, session, rpc, kad, liveWatch, discovery, tunnels, nat, consortium, tunnelService };
}

/** Our own addresses for provider records, before NAT adds the public one. */
function advertisedAddresses(bound: Address | undefined): Address[] {
  return bound ? localAddresses(bound) : [];
}

/** A second UDP socket on the bound host, for hole punching from a symmetric NAT. */
async function openExtraSocket(bound: Address | undefined): Promise<Transport> {
  const socket = new UdpTransport({ host: bound?.host, port: 0 });
  await socket.bind();
  return socket;
}
