/**
 * The NAT module of one node, assembled: classification and reachability checks,
 * keep-alives, the relay role, relay reservations, hole punching, and the relay circuits
 * `connect()` opens (src/node/nat-paths.ts). `MccNode` builds one and feeds it peers;
 * HolePuncher and relay tests build one per simulated node.
 *
 * Policy: an unreachable node keeps relay reservations (and keep-alives towards its
 * relays); a reachable node offers relaying (unless turned off) and serves the DHT.
 */
import { EventEmitter } from 'eventemitter3';
import type { Address } from '../util/address.js';
import { bytesToHex } from '../util/bytes.js';
import { NatClassifier, shouldServeDht, type NatState } from './classifier.js';
import { circuitRoutes, type PeerContact } from './circuit-routes.js';
import { NatProbeService, type NatProbeServiceOptions } from './probe-service.js';
import { HolePuncher, type HolePunchOptions, type LocalNatInfo, type PunchResult } from './holepunch.js';
import { KeepaliveLearner, KeepaliveScheduler, type KeepaliveLearnerOptions } from './keepalive.js';
import { NatMonitor, type NatMonitorOptions, type NatMonitorTuning } from './monitor.js';
import { RelayClient, type OpeningCircuit, type RelayClientOptions } from './relay-client.js';
import type { RelayedConnection } from './relay-client-types.js';
import { RelayServer, type RelayServerOptions, type RelayServerStats } from './relay-server.js';
import type { RelayTransport } from './relay-transport.js';
import type { NatContext, NatPeer, NatSendOneWay } from './types.js';

/** Fine-tuning of a node's NAT machinery (`NodeNatOptions.tuning`); every field has a default. */
export interface NatTuning {
  /** Timing of the NAT checks (mapping and reachability). */
  monitor?: NatMonitorTuning;
  /** Relay reservations and circuits while this node is unreachable. */
  relayClient?: RelayClientOptions;
  /** Hole punching: timeouts, probe rates and budgets, birthday and spray strategies. */
  holepunch?: HolePunchOptions;
  /** Keep-alive interval learning. */
  keepalive?: KeepaliveLearnerOptions & {
    /** Learn the NAT's idle timeout by delayed-echo tests; false keeps `initialMs` and runs no tests. Default true. */
    learn?: boolean;
  };
}

/** Options of a {@link NatService}. */
export interface NatServiceOptions {
  /** The node's relay-aware transport (wraps its socket). */
  transport: RelayTransport;
  /** Sends sealed one-way messages (`SessionLayer.send`). */
  sendOneWay: NatSendOneWay;
  /** Peers to ask for our observed address (real addresses). */
  observers: () => NatPeer[];
  /** Reachable peers that may relay for us. Default: the observers. */
  relayCandidates?: () => NatPeer[];
  /** Picks the third node of a dial-back we help with. Default: a random observer not excluded. */
  pickThirdParty?: NatProbeServiceOptions['pickThirdParty'];
  /** True when our NAT holds a mapping towards `address` (dial-back probes from there are inconclusive). Default: never. */
  mappedTowards?: (address: Address) => boolean;
  /** Our own socket addresses (for the `public` verdict and LAN candidates). Default: the bound address. */
  localAddresses?: () => Address[];
  monitor?: Partial<Omit<NatMonitorOptions, 'observers'>>;
  relay?: RelayServerOptions;
  relayClient?: RelayClientOptions;
  holepunch?: HolePunchOptions;
  keepalive?: KeepaliveLearnerOptions & { learn?: boolean };
}

/** Events of a {@link NatService}. */
export interface NatServiceEvents {
  /** Mapping, reachability or public address changed. */
  change: (state: NatState) => void;
  /** The relays we hold reservations with changed (update provider records). */
  relays: (relays: NatPeer[]) => void;
  /** A hole punch finished (either side). */
  punched: (result: PunchResult) => void;
  /** A peer opened a relay circuit to us. */
  circuit: (connection: RelayedConnection) => void;
}

/**
 * What the node's glue (src/node/nat.ts, src/node/nat-paths.ts) may use of the NAT module:
 * the node never reaches into the classifier, monitor, relays or puncher behind it.
 */
export interface NatControl extends Pick<EventEmitter<NatServiceEvents>, 'on'> {
  readonly state: NatState;
  /** Our relays (reservations held). */
  readonly relays: NatPeer[];
  start(): void;
  stop(): void;
  /** A peer reported the address it sees us at. */
  observe(observerHex: string, observerAddress: Address, observed: Address): void;
  /** Runs a mapping and reachability check now. */
  check(): Promise<NatState>;
  /** What the hole puncher advertises about us (addresses, mapping). */
  localInfo(): LocalNatInfo;
  assumeUnreachable(assume: boolean): void;
  actsUnreachable(state?: NatState): boolean;
  /** Relay serving: its counters and whether it is on. */
  relayServing(): RelayServerStats & { enabled: boolean };
  setRelayServing(enabled: boolean): void;
  openCircuit(target: PeerContact, signal?: AbortSignal): OpeningCircuit;
  closeCircuit(id: string): void;
  punch(peer: NatPeer, options: { known: Address[]; signal?: AbortSignal }): Promise<PunchResult>;
}

/** All NAT traversal of one node. */
export class NatService extends EventEmitter<NatServiceEvents> implements NatControl {
  readonly classifier: NatClassifier;
  readonly probes: NatProbeService;
  readonly monitor: NatMonitor;
  readonly relayServer: RelayServer;
  readonly relayClient: RelayClient;
  readonly puncher: HolePuncher;
  readonly keepalive: KeepaliveScheduler;
  private started = false;
  private assumed = false;

  constructor(
    private readonly context: NatContext,
    private readonly options: NatServiceOptions,
  ) {
    super();
    const transport = options.transport;
    this.classifier = new NatClassifier({ clock: context.clock });
    this.probes = new NatProbeService(context, options.sendOneWay, {
      pickThirdParty:
        options.pickThirdParty ??
        ((exclude) => {
          const excluded = new Set(exclude.map(bytesToHex));
          return options.observers().find((peer) => !excluded.has(bytesToHex(peer.id)));
        }),
      ...(options.mappedTowards ? { mappedTowards: options.mappedTowards } : {}),
    });
    this.monitor = new NatMonitor(context, this.classifier, this.probes, { ...options.monitor, observers: options.observers });
    this.relayServer = new RelayServer(context, (to, data) => transport.sendDirect(to, data), options.relay);
    transport.setRelayFallback((data, from, id) => this.relayServer.handlePacket(data, from, id));
    this.relayClient = new RelayClient(context, transport, options.relayClient);
    this.puncher = new HolePuncher(context, transport, () => this.localInfo(), options.holepunch);
    // The accepting end learns where the relay saw the peer of each circuit: a punch through
    // it sprays that host only, free of the per-host budget (holepunch-guard.ts). Registered
    // before anything else listens, so it precedes the offer that rides the circuit's set-up.
    this.relayClient.on('incoming', (circuit) => this.puncher.observe(circuit));
    this.keepalive = new KeepaliveScheduler(context.clock, new KeepaliveLearner(options.keepalive), {
      sendKeepalive: () => this.sendKeepalives(),
      testIdle: options.keepalive?.learn === false ? undefined : (idle) => this.testIdle(idle),
    });
    this.classifier.on('change', (state) => this.onChange(state));
    this.classifier.on('network-change', () => this.keepalive.networkChanged());
    this.relayClient.on('reservations', () => this.emit('relays', this.relayClient.relays));
    this.relayClient.on('incoming', (connection) => this.emit('circuit', connection));
    this.puncher.on('punched', (result) => this.emit('punched', result));
  }

  get relays(): NatPeer[] {
    return this.relayClient.relays;
  }

  observe(observerHex: string, observerAddress: Address, observed: Address): void {
    this.classifier.observe(observerHex, observerAddress, observed);
  }

  check(): Promise<NatState> {
    return this.monitor.check();
  }

  relayServing(): RelayServerStats & { enabled: boolean } {
    return { ...this.relayServer.stats, enabled: this.relayServer.enabled };
  }

  setRelayServing(enabled: boolean): void {
    if (this.relayServer.enabled !== enabled) this.relayServer.setEnabled(enabled);
  }

  closeCircuit(id: string): void {
    this.relayClient.closeCircuit(id);
  }

  punch(peer: NatPeer, options: { known: Address[]; signal?: AbortSignal }): Promise<PunchResult> {
    return this.puncher.punch(peer, options);
  }

  /** Current verdict. */
  get state(): NatState {
    return this.classifier.state;
  }

  /** True when the node should serve the DHT (reachable). */
  get dhtServer(): boolean {
    return shouldServeDht(this.classifier.state);
  }

  /** What the hole puncher advertises about us. */
  localInfo(): LocalNatInfo {
    const state = this.classifier.state;
    const addresses: Address[] = [];
    if (state.publicAddress) addresses.push(state.publicAddress);
    for (const local of this.localAddresses()) if (!addresses.some((a) => a.host === local.host && a.port === local.port)) addresses.push(local);
    return { mapping: state.mapping, reachable: state.reachable, addresses };
  }

  /**
   * Registers a circuit to `target` (its virtual address can be sent to at once) over its
   * routes (circuit-routes.ts); `launch()` sends the set-up, carrying what was sent to the
   * circuit before (the hole-punch offer, the tunnel handshake), and rejects with
   * ERR_UNREACHABLE when no relay gets through. Throws ERR_UNREACHABLE when there is no route.
   */
  openCircuit(target: PeerContact, signal?: AbortSignal): OpeningCircuit {
    return this.relayClient.open(target.id, circuitRoutes(target, this.relayClient.relays), signal ? { signal } : {});
  }

  /** Starts checks (bind the transport first). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.classifier.setLocalAddresses(this.localAddresses());
    this.monitor.start();
  }

  /** Stops every timer and forgets relay state. */
  stop(): void {
    this.started = false;
    this.monitor.stop();
    this.keepalive.stop();
    this.relayClient.close();
    this.relayServer.close();
    this.puncher.close();
    this.probes.close();
  }

  private localAddresses(): Address[] {
    if (this.options.localAddresses) return this.options.localAddresses();
    try {
      return [this.options.transport.localAddress()];
    } catch {
      return [];
    }
  }

  /**
   * Behind a NAT whose reachability checks keep coming back inconclusive, act as
   * unreachable (hold relay reservations) until a check says otherwise: a node behind
   * NAT that nobody can prove reachable is most likely filtered.
   */
  assumeUnreachable(assume: boolean): void {
    if (this.assumed === assume) return;
    this.assumed = assume;
    this.onChange(this.classifier.state);
  }

  /** True when the node acts as unreachable: the dial-back said so, or the assumption above holds. */
  actsUnreachable(state: NatState = this.classifier.state): boolean {
    return state.reachable === false || (state.reachable === undefined && this.assumed && state.mapping !== 'public');
  }

  private onChange(state: NatState): void {
    if (this.started) {
      const unreachable = this.actsUnreachable(state);
      if (unreachable) this.relayClient.setCandidates((this.options.relayCandidates ?? this.options.observers)());
      this.relayClient.setWanted(unreachable);
      if (state.mapping !== 'public' && state.mapping !== 'unknown') this.keepalive.start();
      else if (state.mapping === 'public') this.keepalive.stop();
    }
    this.emit('change', state);
  }

  /** A ping to every relay we hold a reservation with keeps those mappings open. */
  private sendKeepalives(): void {
    for (const relay of this.relayClient.relays) {
      void this.context.rpc.request(relay, { ping: {} }, { timeoutMs: 2000, retries: 0 }).catch(() => {});
    }
  }

  /** A delayed echo from an observer that is not one of our relays (we stay silent towards it). */
  private async testIdle(idleMs: number): Promise<boolean | undefined> {
    const relays = new Set(this.relayClient.relays.map((r) => bytesToHex(r.id)));
    const peer = this.options.observers().find((p) => !relays.has(bytesToHex(p.id)));
    if (!peer) return undefined;
    return this.probes.echo(peer, idleMs, 2000);
  }
}
