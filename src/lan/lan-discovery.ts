/**
 * LAN discovery: signed announcements multicast on the interfaces a node is bound to, and
 * the announcements of other nodes heard there. It only reports what it hears; the node
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
/** UDP port of announcements (every node on a host shares it: SO_REUSEADDR). */
export const LAN_PORT = 41077;
/** Default period of unsolicited announcements, ms (jittered ±20%). */
export const LAN_INTERVAL_MS = 60_000;

/** Tuning of LAN discovery (`MccNodeOptions.lan`). */
export interface LanOptions {
  /** IPv4 multicast group. Default `239.255.77.77`. */
  group?: string;
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

/** Announces a node on its LAN interfaces and reports the nodes it hears. */
export class LanDiscovery {
  private readonly counters: LanStats;
  private receiver: dgram.Socket | undefined;
  private readonly senders: dgram.Socket[] = [];
  private timer: TimerHandle | undefined;
  private replyTimer: TimerHandle | undefined;
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
      interfaces: options.interfaces.map((lan) => lan.name),
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

  private get port(): number {
    return this.options.port ?? LAN_PORT;
  }

  /** Opens the sockets and announces (asking for answers). Does nothing without interfaces. */
  async start(): Promise<void> {
    if (this.options.interfaces.length === 0) return;
    const receiver = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    this.receiver = receiver;
    receiver.on('error', (error) => this.options.logger.debug(`lan: receive socket error: ${error.message}`));
    receiver.on('message', (data, info) => this.receive(data, info.address));
    // Bound to the group address, the socket sees that group's datagrams and no unicast.
    await bindSocket(receiver, this.port, this.group);
    for (const lan of this.options.interfaces) {
      if (this.closed) break; // stop() ran during a bind: it closed what existed then
      try {
        receiver.addMembership(this.group, lan.address);
      } catch (error) {
        this.options.logger.debug(`lan: cannot join ${this.group} on ${lan.name}: ${(error as Error).message}`);
        continue;
      }
      const sender = dgram.createSocket({ type: 'udp4' });
      sender.on('error', (error) => this.options.logger.debug(`lan: send socket error on ${lan.name}: ${error.message}`));
      this.senders.push(sender);
      await bindSocket(sender, 0, lan.address);
      sender.setMulticastTTL(1);
      sender.setMulticastLoopback(true); // other nodes on this host must hear it too
      sender.setMulticastInterface(lan.address);
    }
    if (this.closed) {
      await this.stop(); // the sockets opened after stop() began
      return;
    }
    this.counters.active = this.senders.length > 0;
    this.announce(true);
    this.scheduleNext();
  }

  /** Closes the sockets and timers; safe to call again, and while start() is under way. */
  async stop(): Promise<void> {
    this.closed = true;
    this.counters.active = false;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    if (this.replyTimer) this.options.clock.clearTimeout(this.replyTimer);
    this.timer = this.replyTimer = undefined;
    const sockets = [...this.senders.splice(0), ...(this.receiver ? [this.receiver] : [])];
    this.receiver = undefined;
    await Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
  }

  /** True while announcing on at least one interface. */
  get active(): boolean {
    return this.counters.active;
  }

  /** A copy of the counters. */
  stats(): LanStats {
    return { ...this.counters, interfaces: [...this.counters.interfaces], dropped: { ...this.counters.dropped } };
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
    for (const sender of this.senders) {
      sender.send(packet, this.port, this.group, (error) => {
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

  private receive(data: Uint8Array, source: string): void {
    if (this.closed) return;
    this.counters.received++;
    if (!this.total.take('all') || !this.perSource.take(source)) return this.drop('rate-limited');
    // Membership is per interface, but Linux hands a socket the group's datagrams from every
    // interface where any socket joined it: keep to the subnets of our own interfaces.
    if (!this.options.interfaces.some((lan) => inSubnet(source, lan))) return this.drop('foreign');
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
