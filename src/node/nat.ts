/**
 * NAT traversal as the node runs it: the glue between `MccNode` and `src/nat`.
 *
 * - The node's socket is wrapped in a {@link RelayTransport}, so session and tunnel
 *   datagrams can ride relay circuits (virtual addresses) and hole-punched extra sockets.
 * - A {@link NatService} classifies the node from its peers' observations (observers:
 *   bootstrap nodes and Kademlia contacts), learns reachability by dial-back, keeps
 *   relay reservations while unreachable and offers relaying while reachable.
 * - Its verdict drives the DHT mode (server when reachable, client when not), the relay
 *   server, and what provider records advertise (addresses, relays; republished on change).
 * - For `connect()`, {@link NatPaths} (src/node/nat-paths.ts) supplies the relayed path
 *   and upgrades a relayed tunnel to a hole-punched direct path without breaking streams.
 */
import { EventEmitter } from 'eventemitter3';
import type { Address } from '../util/address.js';
import { sameAddress } from '../util/address.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { bytesToHex, hexToBytes } from '../util/bytes.js';
import type { Logger } from '../util/logger.js';
import { localAddresses } from '../util/interfaces.js';
import type { CryptoSuite } from '../crypto/types.js';
import type { InboundMessage, SessionLayer } from '../session/session.js';
import type { RpcLayer } from '../session/rpc.js';
import type { Dht } from '../kademlia/dht.js';
import type { Contact } from '../kademlia/types.js';
import type { TunnelDriver } from '../tunnel/driver.js';
import { NatService, type NatTuning } from '../nat/nat-service.js';
import type { NatState } from '../nat/classifier.js';
import type { RelayTransport } from '../nat/relay-transport.js';
import type { RelayServerOptions, RelayServerStats } from '../nat/relay-server.js';
import { isVirtualAddress } from '../nat/relay-packet.js';
import type { NatMapping, NatPeer, SocketFactory } from '../nat/types.js';
import { NatPaths, type ConnectCounts } from './nat-paths.js';
import { NEVER_OVER_CIRCUIT } from '../wire/registry.js';

/** NAT options of a node (`MccNodeOptions.nat`). */
export interface NodeNatOptions {
  /**
   * Opens an extra UDP socket on this host (hole punching from a symmetric NAT opens
   * many). Default: a new UDP socket on the bound host when the node uses its own UDP
   * transport; none (no such strategy) with a custom transport.
   */
  openSocket?: SocketFactory;
  /** Upgrade relayed connections to direct ones by hole punching. Default true. */
  punch?: boolean;
  /** Fine-tuning of the NAT machinery (check intervals, limits, punch strategy). */
  tuning?: NatTuning;
}

/** What `node.stats().nat` reports and the `nat` event carries. */
export interface NatStatus {
  /** How our NAT maps our socket: `public`, `consistent`, `random` or `unknown`. */
  mapping: NatMapping;
  /** Whether unsolicited packets reach us (dial-back); undefined before a conclusive check. */
  reachable: boolean | undefined;
  /** Our address as peers see it. */
  publicAddress: Address | undefined;
  /** Distinct observers behind the verdict. */
  observers: number;
  /** The DHT mode the verdict chose. */
  dht: 'server' | 'client';
  /** Relays we hold reservations with (listed in our provider records). */
  relays: Array<{
    /** The relay's node ID, hex. */
    id: string;
    /** The relay's address. */
    address: Address;
  }>;
  /** Our relay role. */
  relayServer: RelayServerStats & {
    /** True while this node offers relaying (reachable and not turned off). */
    enabled: boolean;
  };
  /** Circuits this node is an end of, and datagrams through them. */
  circuits: {
    /** Circuits open now. */
    open: number;
    /** Datagrams received through circuits. */
    relayedIn: number;
    /** Datagrams sent through circuits. */
    relayedOut: number;
    /** Circuit datagrams dropped: sent to a closed circuit, too large to wrap, beyond what an opening circuit holds, or inbound from an unknown circuit or wrong source. */
    dropped: number;
  };
  /** Outcomes of connects: direct at once, relayed, upgraded by a hole punch, punches that failed. */
  connects: ConnectCounts;
}

/** Events of {@link NodeNat}. */
export interface NodeNatEvents {
  /** Mapping, reachability, public address or relays changed. */
  change: (status: NatStatus) => void;
}

/** A peer the node heard from. */
interface SeenPeer {
  id: string;
  address: Address;
  lastSeen: number;
}

/** What the glue needs from its node. */
export interface NodeNatContext {
  transport: RelayTransport;
  clock: Clock;
  rpc: RpcLayer;
  session: SessionLayer;
  crypto: CryptoSuite;
  kad: Dht;
  tunnels: TunnelDriver;
  logger: Logger;
  /** The bound address (undefined before start). */
  bound: () => Address | undefined;
  /** The bootstrap nodes that answered. */
  seeds: () => Contact[];
  /** Peers the node exchanged authenticated messages with. */
  peers: () => Iterable<SeenPeer>;
  /** The user asked for DHT client mode: never switch to server. */
  forceClientMode: boolean;
  /** `MccNodeOptions.relay`: false turns the relay role off. */
  relay: false | RelayServerOptions | undefined;
  /** Republish provider records (addresses or relays changed). */
  republish: () => void;
  options: NodeNatOptions;
}

/** A dial-back probe from an address we sent to within this window proves nothing. */
const MAPPING_WINDOW_MS = 5 * 60_000;
/**
 * Peers heard from within this window may serve as dial-back third parties (a stale one
 * behind NAT may miss the helper's request: the check is then inconclusive, not wrong).
 */
const THIRD_PARTY_FRESH_MS = 10 * 60_000;
/** Inconclusive reachability checks behind NAT after which the node acts as unreachable. */
const INCONCLUSIVE_CHECKS = 2;
/** First check this long after joining. */
const JOIN_SETTLE_MS = 1000;
/** Re-check while the verdict is incomplete: first delay, doubled up to the cap. */
const RECHECK_FIRST_MS = 5_000;
const RECHECK_MAX_MS = 5 * 60_000;
/** Kademlia requests never ride circuits (virtual addresses must not enter routing tables). */

/** NAT traversal of one node. */
export class NodeNat extends EventEmitter<NodeNatEvents> {
  /** The NAT machinery (classifier, relays, puncher, connector). */
  readonly service: NatService;
  /** Relayed paths for connect() and their upgrade to direct ones. */
  readonly paths: NatPaths;
  private recheckTimer: TimerHandle | undefined;
  private recheckDelay = RECHECK_FIRST_MS;
  /** Checks in a row behind NAT that could not tell whether we are reachable. */
  private inconclusive = 0;
  private running = false;
  private advertised = '';

  constructor(private readonly context: NodeNatContext) {
    super();
    const { transport, clock, rpc, crypto, options } = context;
    const tuning = options.tuning ?? {};
    this.service = new NatService(
      { clock, rpc, crypto },
      {
        transport,
        sendOneWay: (to, body) => void context.session.send(to, body),
        observers: () => this.servers(),
        relayCandidates: () => this.servers(),
        pickThirdParty: (exclude) => this.pickThirdParty(exclude),
        localAddresses: () => {
          const bound = context.bound();
          return bound ? localAddresses(bound) : [];
        },
        mappedTowards: (address) => transport.sentRecently(address, MAPPING_WINDOW_MS),
        monitor: { recentContacts: () => this.recentContacts(), ...tuning.monitor },
        relay: { ...(context.relay === false ? {} : context.relay), enabled: context.relay !== false && context.relay?.enabled !== false },
        ...(tuning.relayClient ? { relayClient: tuning.relayClient } : {}),
        ...(tuning.keepalive ? { keepalive: tuning.keepalive } : {}),
        holepunch: { ...(options.openSocket ? { openSocket: options.openSocket } : {}), ...tuning.holepunch },
      },
    );
    this.service.on('change', (state) => this.onChange(state));
    this.service.on('relays', () => {
      this.emit('change', this.status());
      this.republishIfChanged();
    });
    this.paths = new NatPaths({
      service: this.service,
      transport,
      clock,
      tunnels: context.tunnels,
      logger: context.logger,
      running: () => this.running,
      punch: options.punch,
    });
  }

  /** Starts the checks; call after the transport is bound. */
  start(): void {
    this.running = true;
    this.context.transport.setClock(() => this.context.clock.now());
    this.service.start();
  }

  /**
   * The node joined the mesh: observers exist now. Check shortly (nodes that join at the
   * same time then count as observers too), and again while the verdict is incomplete.
   */
  joined(): void {
    if (!this.running) return;
    this.recheckDelay = RECHECK_FIRST_MS;
    this.context.clock.clearTimeout(this.recheckTimer);
    this.recheckTimer = this.context.clock.setTimeout(() => void this.check(), JOIN_SETTLE_MS);
  }

  /** Stops every timer, relay state and hole punch (before the transport closes). */
  stop(): void {
    this.running = false;
    this.context.clock.clearTimeout(this.recheckTimer);
    this.recheckTimer = undefined;
    this.service.stop();
    this.paths.stop();
  }

  /** A peer reported the address it sees us at (the node's ping). */
  observed(observerHex: string, observerAddress: Address, observed: Address): void {
    this.service.observe(observerHex, observerAddress, observed);
  }

  /** The current status (for `stats()` and the `nat` event). */
  status(): NatStatus {
    const state = this.service.state;
    const counters = this.context.transport.counters;
    return {
      mapping: state.mapping,
      reachable: state.reachable,
      publicAddress: state.publicAddress,
      observers: state.observers,
      dht: this.context.kad.clientMode ? 'client' : 'server',
      relays: this.service.relays.map((relay) => ({ id: bytesToHex(relay.id), address: relay.address })),
      relayServer: this.service.relayServing(),
      circuits: {
        open: this.context.transport.circuitCount,
        relayedIn: counters.relayedIn,
        relayedOut: counters.relayedOut,
        dropped: counters.droppedInbound + counters.droppedNoCircuit + counters.droppedOversized + counters.droppedEarly,
      },
      connects: { ...this.paths.counts },
    };
  }

  /** What provider records advertise: addresses (public first, then our own) and relays. */
  selfInfo(fallback: Address[]): { addresses: Address[]; relays: Contact[] } {
    const addresses: Address[] = [];
    for (const address of [...this.service.localInfo().addresses, ...fallback]) {
      if (!isVirtualAddress(address) && !addresses.some((known) => sameAddress(known, address))) addresses.push(address);
    }
    return { addresses, relays: this.service.relays };
  }

  /** True for Kademlia requests that arrive through a circuit: the node drops them. */
  isKademliaOverCircuit(message: InboundMessage): boolean {
    if (!isVirtualAddress(message.from.address)) return false;
    const envelope = message.envelope as Record<string, unknown>;
    return NEVER_OVER_CIRCUIT.some((kind) => envelope[kind] != null);
  }

  private async check(): Promise<void> {
    const state = await this.service.check();
    if (!this.running) return;
    this.context.logger.debug(`NAT check: ${state.mapping}, reachable ${state.reachable}, ${state.observers} observers`);
    if (state.reachable !== undefined || state.mapping === 'public') this.inconclusive = 0;
    // A node seen at its own socket address is not behind NAT: an inconclusive dial-back there is
    // a lost probe, not a firewall, and assuming otherwise would switch a public relay off.
    else if (state.publicAddress !== undefined && !this.seenAtOwnAddress(state.publicAddress) && ++this.inconclusive >= INCONCLUSIVE_CHECKS)
      this.service.assumeUnreachable(true);
    // Until the verdict is complete (two observers, a conclusive dial-back), check again with backoff.
    if (state.observers < 2 || state.reachable === undefined) {
      this.context.clock.clearTimeout(this.recheckTimer);
      this.recheckTimer = this.context.clock.setTimeout(() => void this.check(), this.recheckDelay);
      this.recheckDelay = Math.min(RECHECK_MAX_MS, this.recheckDelay * 2);
    }
  }

  /** True when `observed` is one of this node's own socket addresses (no NAT in between). */
  private seenAtOwnAddress(observed: Address): boolean {
    const bound = this.context.bound();
    if (!bound) return false;
    const plain = (host: string): string => (host.startsWith('::ffff:') ? host.slice(7) : host).toLowerCase();
    return localAddresses(bound).some((own) => own.port === observed.port && plain(own.host) === plain(observed.host));
  }

  private onChange(state: NatState): void {
    const { kad } = this.context;
    // Without a conclusive dial-back, a host that observers see at its own socket address counts as
    // reachable, and one behind NAT that repeatedly could not be proven reachable as unreachable.
    const unreachable = this.service.actsUnreachable(state);
    const reachable = unreachable ? false : (state.reachable ?? (state.mapping === 'public' ? true : undefined));
    if (!this.context.forceClientMode && reachable !== undefined) kad.clientMode = !reachable;
    if (this.context.relay !== false) {
      const offer = !unreachable;
      this.service.setRelayServing(offer);
    }
    this.emit('change', this.status());
    this.republishIfChanged();
  }

  /** Republishes provider records when what they advertise changed. */
  private republishIfChanged(): void {
    if (!this.running) return;
    const info = this.selfInfo([]);
    const signature = JSON.stringify([info.addresses, info.relays.map((relay) => [bytesToHex(relay.id), relay.address])]);
    if (signature === this.advertised) return;
    const first = this.advertised === '';
    this.advertised = signature;
    if (!first) this.context.republish();
  }

  /** DHT servers with real addresses: the bootstrap nodes first, then routing-table contacts. */
  private servers(): NatPeer[] {
    const { kad } = this.context;
    const out: NatPeer[] = [];
    const seen = new Set<string>();
    for (const contact of [...this.context.seeds(), ...kad.closestContacts(kad.position, undefined, 20)]) {
      const hex = bytesToHex(contact.id);
      if (seen.has(hex) || isVirtualAddress(contact.address)) continue;
      seen.add(hex);
      out.push({ id: contact.id, address: contact.address });
    }
    return out;
  }

  /**
   * The third node of a dial-back we help with: a peer heard from lately (so its NAT lets
   * our request in), not excluded. Peers outside our routing table come first: the
   * requester's own lookups have most likely contacted routing-table nodes, whose probes
   * would then pass its NAT and prove nothing.
   */
  private pickThirdParty(exclude: Uint8Array[]): NatPeer | undefined {
    const excluded = new Set(exclude.map(bytesToHex));
    const now = this.context.clock.now();
    const inTable = new Set(this.context.kad.closestContacts(this.context.kad.position, undefined, 20).map((c) => bytesToHex(c.id)));
    const fresh: SeenPeer[] = [];
    for (const peer of this.context.peers()) {
      if (excluded.has(peer.id) || isVirtualAddress(peer.address) || now - peer.lastSeen > THIRD_PARTY_FRESH_MS) continue;
      fresh.push(peer);
    }
    const outside = fresh.filter((peer) => !inTable.has(peer.id));
    const pool = outside.length > 0 ? outside : fresh;
    const chosen = pool[Math.floor(Math.random() * pool.length)];
    return chosen && { id: hexToBytes(chosen.id), address: chosen.address };
  }

  /** Nodes we heard from lately (their packets pass our NAT): excluded as dial-back third parties. */
  private recentContacts(): Uint8Array[] {
    const now = this.context.clock.now();
    const recent = [...this.context.peers()].filter((peer) => now - peer.lastSeen <= MAPPING_WINDOW_MS);
    recent.sort((a, b) => b.lastSeen - a.lastSeen);
    return recent.slice(0, 12).map((peer) => hexToBytes(peer.id));
  }
}
