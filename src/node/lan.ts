/**
 * The node's side of LAN discovery: which interfaces it announces on, and what a proven LAN
 * peer does to it. A peer always enters the routing table; when the node knows nobody else
 * (no bootstrap node answered, or none was given) it also joins the mesh through that peer
 * and republishes its registrations, which until then only it held.
 */
import type { CryptoSuite, KeyPair } from '../crypto/types.js';
import type { Dht } from '../kademlia/dht.js';
import type { Contact } from '../kademlia/types.js';
import { LanDiscovery, type LanOptions, type LanStats } from '../lan/lan-discovery.js';
import { LanJoiner } from '../lan/lan-join.js';
import { lanInterfaces, type LanInterface } from '../lan/interfaces.js';
import type { Address } from '../util/address.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { MccNodeOptions } from './types.js';

/** How long start() waits for a LAN peer when no bootstrap node answered and none was saved, ms. */
export const LAN_JOIN_WAIT_MS = 300;

/** Values of `MCC_LAN` that turn LAN discovery off when the `lan` option is not given. */
const OFF = new Set(['0', 'off', 'false', 'no']);

/**
 * The LAN settings `options` ask for, or undefined when LAN discovery is off: `lan: false`,
 * a custom transport (a simulated network has no LAN), or `MCC_LAN=off` with `lan` unset.
 */
export function lanSettings(options: MccNodeOptions, env: NodeJS.ProcessEnv = process.env): LanOptions | undefined {
  if (options.lan === false || options.transport !== undefined) return undefined;
  if (options.lan === undefined && OFF.has((env['MCC_LAN'] ?? '').toLowerCase())) return undefined;
  return typeof options.lan === 'object' ? options.lan : {};
}

/** LAN discovery counters of a node (`node.stats().lan`). */
export interface NodeLanStats extends LanStats {
  /** Join lookups run through a LAN peer because the node knew nobody else. */
  joins: number;
  /** Announced peers that did not answer a ping with the announced ID. */
  unproven: number;
}

/** The counters of a node whose LAN discovery is off. */
export function inactiveLanStats(): NodeLanStats {
  return {
    active: false,
    interfaces: [],
    addresses: [],
    sent: 0,
    sendLimited: 0,
    received: 0,
    heard: 0,
    dropped: { malformed: 0, unauthenticated: 0, 'rate-limited': 0, foreign: 0, self: 0, stale: 0 },
    joins: 0,
    unproven: 0,
  };
}

/** What {@link NodeLan} needs from the node. */
export interface NodeLanContext {
  suite: CryptoSuite;
  identity: KeyPair;
  clock: Clock;
  wallClock: () => number;
  logger: Logger;
  kad: Dht;
  /** Ping through the session layer (identify probe + sealed ping). */
  ping(address: Address, signal: AbortSignal): Promise<{ id: string }>;
  /** True when the node already talks to `idHex` at `address`. */
  isKnown(idHex: string, address: Address): boolean;
  /** The node joined the mesh through LAN peer `contact` (it had no one else). */
  joinedThrough(contact: Contact): void;
  /** The interfaces for a bound host (tests inject their own). Default {@link lanInterfaces}. */
  interfaces?: (host: string) => LanInterface[];
}

/** LAN discovery of one node. */
export class NodeLan {
  private discovery: LanDiscovery | undefined;
  private readonly joiner: LanJoiner;
  /** Join lookups through LAN peers (the node had no other way in). */
  private joins = 0;
  private readonly provenPeers: Contact[] = [];
  private readonly waiters = new Set<() => void>();
  private stopped = false;

  constructor(
    private readonly settings: LanOptions,
    private readonly context: NodeLanContext,
  ) {
    this.joiner = new LanJoiner({
      isKnown: (idHex, address) => context.isKnown(idHex, address),
      ping: (address, signal) => context.ping(address, signal),
      proven: (contact) => this.proven(contact),
      logger: context.logger,
    });
  }

  /** Starts announcing on the interfaces of `bound`; a failure is logged, never thrown (the node runs without). */
  async start(bound: Address): Promise<void> {
    const interfaces = (this.context.interfaces ?? lanInterfaces)(bound.host);
    if (interfaces.length === 0) {
      this.context.logger.debug(`lan: no multicast interface for ${bound.host}; not announcing`);
      return;
    }
    const discovery = new LanDiscovery({
      ...this.settings,
      suite: this.context.suite,
      identity: this.context.identity,
      clock: this.context.clock,
      wallClock: this.context.wallClock,
      logger: this.context.logger,
      nodePort: bound.port,
      interfaces,
      onPeer: (announcement, address) => this.joiner.heard(announcement, address),
    });
    this.discovery = discovery;
    try {
      await discovery.start();
      this.context.logger.info(`lan: announcing on ${interfaces.map((lan) => lan.name).join(', ')}`);
    } catch (error) {
      if (!this.stopped) this.context.logger.warn(`lan: discovery not started: ${(error as Error).message}`);
      await discovery.stop();
    }
  }

  /**
   * Resolves once a LAN peer is proven, or after `ms`, or when `signal` aborts; at once when
   * one already is or LAN discovery is not announcing anywhere. A node with no one else to
   * join through waits this long in start(), so that its first lookup already reaches the LAN.
   */
  firstPeer(ms: number, signal?: AbortSignal): Promise<void> {
    if (!this.discovery?.active || this.provenPeers.length > 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.context.clock.clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = this.context.clock.setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }

  /** Closes the sockets and abandons pings in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of [...this.waiters]) wake();
    this.joiner.stop();
    await this.discovery?.stop();
  }

  /** The counters (`node.stats().lan`). */
  stats(): NodeLanStats {
    return { ...(this.discovery?.stats() ?? inactiveLanStats()), joins: this.joins, unproven: this.joiner.failed };
  }

  /** LAN peers proven so far (at most 16, latest last): join seeds for a node whose bootstrap nodes did not answer. */
  contacts(): Contact[] {
    return [...this.provenPeers];
  }

  private async proven(contact: Contact): Promise<void> {
    const { kad } = this.context;
    this.provenPeers.push(contact);
    if (this.provenPeers.length > 16) this.provenPeers.shift();
    for (const wake of [...this.waiters]) wake();
    // Before the DHT started, start() itself joins through contacts() if nobody else answered.
    if (!kad.started) return kad.observe(contact);
    const alone = kad.closestContacts(kad.positions.of(this.context.identity.publicKey), undefined, 1).length === 0;
    kad.observe(contact);
    if (!alone) return;
    this.joins++;
    await kad.bootstrap([contact]);
    this.context.joinedThrough(contact);
  }
}
