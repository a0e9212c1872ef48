/**
 * LAN discovery: signed announcements multicast on the interfaces a node is bound to (IPv4
 * and IPv6 link-local), and the announcements of other nodes heard there. It only reports what it hears; the node
 * proves each peer (identify probe and sealed ping) before using it (src/lan/lan-join.ts).
 */
import dgram from 'node:dgram';
import type { CryptoSuite, KeyPair } from '../crypto/types.js';
import type { Address } from '../util/address.js';
import { bytesToHex } from '../util/bytes.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { LruMap } from '../util/lru.js';
import { RateLimiter } from '../util/rate-limiter.js';
import { decodeAnnouncement, encodeAnnouncement, type Announcement } from './announce.js';
import { inSubnet, type LanInterface } from './interfaces.js';

/** IPv4 multicast group of announcements (organisation-local scope; TTL 1 keeps them on the link). */
export const LAN_GROUP = '239.255.77.77';
/**
 * IPv6 multicast group of announcements: link-local scope (ff02::, never routed), group ID
 * 0x4d43004d ("MC", "M"); joined per interface, sent with hop limit 1.
 */
export const LAN_GROUP6 = 'ff02::4d43:4d';
/** UDP port of announcements (every node on a host shares it: SO_REUSEADDR). */
export const LAN_PORT = 41077;
/** Default period of unsolicited announcements, ms (jittered ±20%). */
export const LAN_INTERVAL_MS = 60_000;

/** Tuning of LAN discovery (`MccNodeOptions.lan`). */
export interface LanOptions {
  /** IPv4 multicast group. Default `239.255.77.77`. */
  group?: string;
  /** IPv6 multicast group (link-local scope, used with each interface's zone). Default `ff02::4d43:4d`. */
  group6?: string;
  /** Multicast UDP port. Default 41077. */
  port?: number;
  /** Period of unsolicited announcements in ms (jittered ±20%). Default 60 s. */
  intervalMs?: number;
}

/** Why a datagram on the LAN socket was not taken as an announcement. */
export type LanDropReason = 'malformed' | 'unauthenticated' | 'rate-limited' | 'foreign' | 'self' | 'stale';

/** Counters of LAN discovery (`node.stats().lan`). */
export interface LanStats {
  /** True while announcing on at least one interface. */
  active: boolean;
  /** The interfaces announced on (empty: LAN discovery is off or found no multicast interface). */
  interfaces: string[];
  /** The addresses announcements leave from, one per interface and family (`10.0.0.5`, `fe80::1%eth0`): peers contact the node there. */
  addresses: string[];
  /** Announcements sent (one per interface per announcement). */
  sent: number;
  /** Announcements not sent because the send budget was spent (replies to a flood of queries). */
  sendLimited: number;
  /** Datagrams received on the LAN socket. */
  received: number;
  /** Valid announcements from other nodes. */
  heard: number;
  /** Datagrams dropped, by reason. */
  dropped: Record<LanDropReason, number>;
}

/** What {@link LanDiscovery} needs. */
export interface LanDiscoveryOptions extends LanOptions {
  suite: CryptoSuite;
  identity: KeyPair;
  clock: Clock;
  wallClock: () => number;
  logger: Logger;
  /** The node's own UDP port, announced. */
  nodePort: number;
  /** Where to announce ({@link lanInterfaces}). */
  interfaces: readonly LanInterface[];
  /** A valid announcement from another node, with the address to contact it at. */
  onPeer(announcement: Announcement, address: Address): void;
}

/** Attempts and first pause of re-opening an IPv6 interface that failed at start (then doubling). */
const OPEN6_ATTEMPTS = 5;
const OPEN6_FIRST_RETRY_MS = 500;

/** Announces a node on its LAN interfaces and reports the nodes it hears. */
export class LanDiscovery {
  private readonly counters: LanStats;
  /** Every socket opened (receivers and senders), closed by stop(). */
  private readonly sockets: dgram.Socket[] = [];
  /** Where each announcement goes: a sender and its destination (the group, with the zone for IPv6). */
  private readonly senders: { socket: dgram.Socket; group: string }[] = [];
  private timer: TimerHandle | undefined;
  private replyTimer: TimerHandle | undefined;
  private retryTimer: TimerHandle | undefined;
  private closed = false;
  /** Latest announcement time per node ID: older or repeated ones (one per interface, replays) are dropped. */
  private readonly latest = new LruMap<string, number>(1024);
  /** A LAN has few nodes: 20 datagrams a second per source and 200 in all is far above normal. */
  private readonly perSource: RateLimiter;
  private readonly total: RateLimiter;
  /** Our own sends: a burst of 4, then one a second, whatever asks (queries, the period). */
  private readonly sendBudget: RateLimiter;
  private readonly selfHex: string;

  constructor(private readonly options: LanDiscoveryOptions) {
    this.selfHex = bytesToHex(options.identity.publicKey);
    this.perSource = new RateLimiter(options.clock, { ratePerSecond: 20, burst: 40, maxKeys: 1024 });
    this.total = new RateLimiter(options.clock, { ratePerSecond: 200, burst: 400, maxKeys: 1 });
    this.sendBudget = new RateLimiter(options.clock, { ratePerSecond: 1, burst: 4, maxKeys: 1 });
    this.counters = {
      active: false,
      interfaces: [...new Set(options.interfaces.map((lan) => lan.name))],
      addresses: [],
      sent: 0,
      sendLimited: 0,
      received: 0,
      heard: 0,
      dropped: { malformed: 0, unauthenticated: 0, 'rate-limited': 0, foreign: 0, self: 0, stale: 0 },
    };
  }

  private get group(): string {
    return this.options.group ?? LAN_GROUP;
  }

  private get group6(): string {
    return this.options.group6 ?? LAN_GROUP6;
  }

  private get port(): number {
    return this.options.port ?? LAN_PORT;
  }

  /** Opens the sockets and announces (asking for answers). Does nothing without interfaces. */
  async start(): Promise<void> {
    if (this.options.interfaces.length === 0) return;
    const v4 = this.options.interfaces.filter((lan) => lan.family === 4);
    if (v4.length > 0) await this.open4(v4);
    const failed: LanInterface[] = [];
    for (const lan of this.options.interfaces) {
      if (this.closed) break; // stop() ran during a bind: it closed what existed then
      if (lan.family === 6 && !(await this.open6(lan))) failed.push(lan);
    }
    if (this.closed) {
      await this.stop(); // the sockets opened after stop() began
      return;
    }
    this.counters.active = this.senders.length > 0;
    this.announce(true);
    this.scheduleNext();
    if (failed.length > 0) this.retry6(failed, 1);
  }

  /**
   * Tries the IPv6 interfaces that could not be opened again, after 0.5, 1, 2, 4 and 8 s: a
   * node started right after its link came up can find the address still settling (duplicate
   * address detection) or the link's multicast not ready, and would otherwise stay silent there
   * for its whole life. Announces (asking for answers) as soon as one opens.
   */
  private retry6(interfaces: LanInterface[], attempt: number): void {
    if (this.closed || attempt > OPEN6_ATTEMPTS) return;
    this.retryTimer = this.options.clock.setTimeout(
      () => {
        this.retryTimer = undefined;
        void (async () => {
          const failed: LanInterface[] = [];
          for (const lan of interfaces) {
            if (this.closed) break;
            if (!(await this.open6(lan))) failed.push(lan);
          }
          if (this.closed) return void (await this.stop()); // sockets opened while stop() ran
          if (failed.length < interfaces.length) {
            this.counters.active = true;
            this.announce(true);
          }
          if (failed.length > 0) this.retry6(failed, attempt + 1);
        })().catch((error: Error) => this.options.logger.debug(`lan: IPv6 retry failed: ${error.message}`));
      },
      OPEN6_FIRST_RETRY_MS * 2 ** (attempt - 1),
    );
  }

  private socket(type: 'udp4' | 'udp6', what: string, reuseAddr = false): dgram.Socket {
    const socket = dgram.createSocket({ type, reuseAddr });
    socket.on('error', (error) => this.options.logger.debug(`lan: ${what} socket error: ${error.message}`));
    this.sockets.push(socket);
    return socket;
  }

  /** IPv4: one receiver for all interfaces (bound to the group), one sender per interface. */
  private async open4(interfaces: readonly LanInterface[]): Promise<void> {
    const receiver = this.socket('udp4', 'receive', true);
    receiver.on('message', (data, info) => this.receive(data, info.address, interfaces));
    // Bound to the group address, the socket sees that group's datagrams and no unicast.
    await bindSocket(receiver, this.port, this.group);
    for (const lan of interfaces) {
      if (this.closed) return;
      try {
        receiver.addMembership(this.group, lan.address);
      } catch (error) {
        this.options.logger.debug(`lan: cannot join ${this.group} on ${lan.name}: ${(error as Error).message}`);
        continue;
      }
      const sender = this.socket('udp4', `send (${lan.name})`);
      await bindSocket(sender, 0, lan.address);
      sender.setMulticastTTL(1);
      sender.setMulticastLoopback(true); // other nodes on this host must hear it too
      sender.setMulticastInterface(lan.address);
      this.senders.push({ socket: sender, group: this.group });
      this.counters.addresses.push(lan.address);
    }
  }

  /**
   * IPv6: a receiver and a sender per interface. Binding the link-scope group needs a zone,
   * which also ties the receiver to that interface. The sender is bound to the address peers
   * are to answer ({@link LanInterface.address}): the kernel would otherwise pick the source,
   * and a node bound to one address would be pinged at another. A failure skips the interface
   * (an address still in duplicate address detection cannot be bound yet).
   */
  private async open6(lan: LanInterface): Promise<boolean> {
    const group = `${this.group6}%${lan.name}`;
    const receiver = this.socket('udp6', `receive (${lan.name})`, true);
    const sender = this.socket('udp6', `send (${lan.name})`);
    try {
      receiver.on('message', (data, info) => this.receive(data, info.address, [lan]));
      await bindSocket(receiver, this.port, group);
      receiver.addMembership(this.group6, `::%${lan.name}`);
      await bindSocket(sender, 0, lan.address);
      sender.setMulticastTTL(1); // IPV6_MULTICAST_HOPS
      sender.setMulticastLoopback(true);
      sender.setMulticastInterface(`::%${lan.name}`);
    } catch (error) {
      if (!this.closed) this.options.logger.debug(`lan: no IPv6 announcements on ${lan.name}: ${(error as Error).message}`);
      for (const socket of [receiver, sender]) {
        const at = this.sockets.indexOf(socket);
        if (at >= 0) this.sockets.splice(at, 1); // else stop() took it already
      }
      await Promise.all([receiver, sender].map(closeSocket));
      return false;
    }
    this.senders.push({ socket: sender, group });
    this.counters.addresses.push(lan.address);
    return true;
  }

  /** Closes the sockets and timers; safe to call again, and while start() is under way. */
  async stop(): Promise<void> {
    this.closed = true;
    this.counters.active = false;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    if (this.replyTimer) this.options.clock.clearTimeout(this.replyTimer);
    if (this.retryTimer) this.options.clock.clearTimeout(this.retryTimer);
    this.timer = this.replyTimer = this.retryTimer = undefined;
    this.senders.length = 0;
    await Promise.all(this.sockets.splice(0).map(closeSocket));
  }

  /** True while announcing on at least one interface. */
  get active(): boolean {
    return this.counters.active;
  }

  /** A copy of the counters. */
  stats(): LanStats {
    const { interfaces, addresses, dropped } = this.counters;
    return { ...this.counters, interfaces: [...interfaces], addresses: [...addresses], dropped: { ...dropped } };
  }

  private scheduleNext(): void {
    if (this.closed) return;
    const period = this.options.intervalMs ?? LAN_INTERVAL_MS;
    this.timer = this.options.clock.setTimeout(
      () => {
        this.announce(false);
        this.scheduleNext();
      },
      period * (0.8 + 0.4 * Math.random()),
    );
  }

  private announce(query: boolean): void {
    if (this.closed || this.senders.length === 0) return;
    if (!this.sendBudget.take('self')) {
      this.counters.sendLimited++;
      return;
    }
    const packet = encodeAnnouncement(this.options.suite, this.options.identity, this.options.nodePort, this.options.wallClock(), query);
    for (const { socket, group } of this.senders) {
      socket.send(packet, this.port, group, (error) => {
        if (error) this.options.logger.debug(`lan: announcement not sent: ${error.message}`);
      });
      this.counters.sent++;
    }
  }

  /** A query is answered after a short random delay (2-20 ms, so that the nodes of a LAN do not all answer at once), once for every query heard meanwhile. */
  private scheduleReply(): void {
    if (this.replyTimer || this.closed) return;
    this.replyTimer = this.options.clock.setTimeout(
      () => {
        this.replyTimer = undefined;
        this.announce(false);
      },
      2 + Math.random() * 18,
    );
  }

  /** A datagram from `source` (IPv6 link-local with its zone) on the receiver of `interfaces`. */
  private receive(data: Uint8Array, source: string, interfaces: readonly LanInterface[]): void {
    if (this.closed) return;
    this.counters.received++;
    if (!this.total.take('all') || !this.perSource.take(source)) return this.drop('rate-limited');
    // IPv4 membership is per interface, but Linux hands a socket the group's datagrams from
    // every interface where any socket joined it: keep to the subnets of our own interfaces.
    // (An IPv6 receiver is tied to its interface; the same check keeps its sources on-link.)
    if (!interfaces.some((lan) => inSubnet(source, lan))) return this.drop('foreign');
    const decoded = decodeAnnouncement(this.options.suite, data);
    if (typeof decoded === 'string') return this.drop(decoded);
    const hex = bytesToHex(decoded.id);
    if (hex === this.selfHex) return this.drop('self');
    const latest = this.latest.get(hex);
    if (latest !== undefined && decoded.time <= latest) return this.drop('stale');
    this.latest.set(hex, decoded.time);
    this.counters.heard++;
    if (decoded.query) this.scheduleReply();
    this.options.onPeer(decoded, { host: source, port: decoded.port });
  }

  private drop(reason: LanDropReason): void {
    this.counters.dropped[reason]++;
  }
}

function closeSocket(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

function bindSocket(socket: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    // Closed by stop() while binding: the bind callback would never come.
    const onClose = (): void => reject(new Error('socket closed while binding'));
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.bind({ port, address, exclusive: false }, () => {
      socket.off('error', onError);
      socket.off('close', onClose);
      resolve();
    });
  });
}
