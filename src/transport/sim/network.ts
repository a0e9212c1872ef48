/**
 * The simulated network: thousands of {@link SimTransport}s in one process,
 * joined by links with latency, jitter, loss, duplication, reordering and
 * bandwidth limits, and optionally hidden behind {@link SimNat}s.
 *
 * Hosts are labels ('10.0.x.y' public, '192.168.x.y' private per NAT), never real
 * sockets. Everything random comes from one seeded PRNG per concern, and every
 * delivery is a clock timer, so with a {@link VirtualClock} the same seed and the
 * same program produce the same delivery trace.
 *
 * Where things are decided: the sender's NAT translates (and its bandwidth queue,
 * loss, jitter are drawn) at send time; the receiver's NAT filters and the
 * listener is looked up at arrival time — as on a real path, so simultaneous
 * hole punching works when both sides send before the other's packet arrives.
 */
import { MccError, invalidArgument } from '../../errors.js';
import type { Address } from '../../util/address.js';
import { systemClock, type Clock } from '../../util/clock.js';
import { CopyPool } from './copy-pool.js';
import { DEFAULT_LINK, DEFAULT_QUEUE_BYTES, resolveLink, type LinkProfile } from './link.js';
import { SimNat, type SimHost, type SimNatOptions } from './nat.js';
import { deriveRandom, type RandomSource } from './random.js';
import { SimTransport } from './transport.js';
import type { SimDropReason, SimEndpoint, SimFabric, SimNetworkStats, SimSite, SimTraceEvent } from './types.js';

/** Options of {@link SimNetwork}. */
export interface SimNetworkOptions {
  /** Time source for deliveries. Default `systemClock`; pass a `VirtualClock` for fast deterministic runs. */
  clock?: Clock;
  /** PRNG seed; same seed, same run. Default 1. */
  seed?: number;
  /** Profile of every link without an override (merged over 5 ms, lossless). */
  defaultLink?: Partial<LinkProfile>;
}

/** Options of {@link SimNetwork.createTransport}. */
export interface SimTransportOptions {
  /** Host label; allocated when omitted (private in the NAT's LAN when `nat` is given). An existing host gets another port. */
  host?: string;
  /** Port to bind; 0 or omitted allocates one from 49152 up. */
  port?: number;
  /** Put the host on this NAT's LAN. */
  nat?: SimNat;
}

/** One datagram in flight. */
class InFlight {
  constructor(
    /** Source as the receiver will see it (after the sender's NAT). */
    readonly from: Address,
    readonly toHost: string,
    readonly toPort: number,
    readonly data: Uint8Array,
    /** Set for deliveries inside one NAT's LAN (no translation). */
    readonly lan: SimNat | undefined,
  ) {}
}

const FIRST_EPHEMERAL_PORT = 49152;

/** The in-memory network. */
export class SimNetwork implements SimFabric {
  /** The clock deliveries are scheduled on. */
  readonly clock: Clock;
  /** Traffic counters. */
  readonly stats: SimNetworkStats = {
    sent: 0,
    delivered: 0,
    duplicated: 0,
    bytesSent: 0,
    bytesDelivered: 0,
    dropped: { loss: 0, 'nat-filter': 0, 'no-listener': 0, queue: 0, 'no-route': 0 },
  };
  /** Optional observer of every datagram's fate (allocates an event per call only while set). */
  tap: ((event: SimTraceEvent) => void) | undefined;
  private readonly defaultLink: LinkProfile;
  private readonly seed: number;
  private readonly linkRandom: RandomSource;
  /** Public hosts and NAT public addresses by label. */
  private readonly publicHosts = new Map<string, SimHost | SimNat>();
  /** Per-pair overrides: host → host → profile (stored both ways). */
  private readonly links = new Map<string, Map<string, LinkProfile>>();
  private readonly copies = new CopyPool();
  private nextPublicIndex = 1;
  private publicHostCount = 0;
  private natCount = 0;

  /** Creates an empty network. */
  constructor(options: SimNetworkOptions = {}) {
    if (options === null || typeof options !== 'object') throw invalidArgument('options', 'expected an object');
    const clock = options.clock ?? systemClock;
    if (typeof clock.now !== 'function' || typeof clock.setTimeout !== 'function') throw invalidArgument('clock', 'expected a Clock');
    const seed = options.seed ?? 1;
    if (!Number.isInteger(seed)) throw invalidArgument('seed', 'expected an integer');
    this.clock = clock;
    this.seed = seed;
    this.defaultLink = resolveLink(options.defaultLink, DEFAULT_LINK, 'defaultLink');
    this.linkRandom = deriveRandom(seed, 0);
  }

  /** Allocates a fresh host label: public ('10.x.y.z') or, with `nat`, private on that NAT's LAN ('192.168.x.y'). */
  allocateHost(nat?: SimNat): string {
    if (nat !== undefined) return this.checkNat(nat).addHost(undefined).host;
    return this.addPublicHost(undefined).host;
  }

  /** Overrides the link profile between two hosts (both directions), merged over the default link. */
  setLink(hostA: string, hostB: string, profile: Partial<LinkProfile>): void {
    if (typeof hostA !== 'string' || typeof hostB !== 'string') throw invalidArgument('host', 'expected two host labels');
    const resolved = resolveLink(profile, this.defaultLink, 'profile');
    this.linkMap(hostA).set(hostB, resolved);
    this.linkMap(hostB).set(hostA, resolved);
  }

  /** The profile in force from `fromHost` to `toHost` (the override, else the default). */
  getLink(fromHost: string, toHost: string): LinkProfile {
    return { ...(this.links.get(fromHost)?.get(toHost) ?? this.defaultLink) };
  }

  /** Creates a NAT (or firewall) with its own public address and private LAN. */
  createNat(options: SimNatOptions): SimNat {
    if (options === null || typeof options !== 'object') throw invalidArgument('options', 'expected NAT options');
    let publicHost = options.publicHost;
    if (publicHost !== undefined) {
      if (typeof publicHost !== 'string' || publicHost.length === 0) throw invalidArgument('publicHost', 'expected a host label');
      if (this.publicHosts.has(publicHost)) throw invalidArgument('publicHost', `"${publicHost}" is already in use`);
    } else {
      publicHost = this.freshPublicLabel();
    }
    const nat = new SimNat(options, publicHost, deriveRandom(this.seed, 1 + this.natCount++), this.clock);
    this.publicHosts.set(publicHost, nat);
    return nat;
  }

  /** Creates an unbound transport; `bind()` then takes the port. */
  createTransport(options: SimTransportOptions = {}): SimTransport {
    if (options === null || typeof options !== 'object') throw invalidArgument('options', 'expected an object');
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalidArgument('port', 'expected an integer 0..65535');
    if (options.host !== undefined && (typeof options.host !== 'string' || options.host.length === 0)) throw invalidArgument('host', 'expected a host label');
    const site = options.nat !== undefined ? this.checkNat(options.nat).addHost(options.host) : this.addPublicHost(options.host);
    return new SimTransport(this, site, site.host, port);
  }

  /** Number of public hosts (NATs not included). */
  get hostCount(): number {
    return this.publicHostCount;
  }

  /** @internal */
  attach(endpoint: SimEndpoint, site: SimSite, port: number): number {
    const host = site as SimHost;
    if (port === 0) {
      for (let i = 0; i < 65536 - FIRST_EPHEMERAL_PORT; i++) {
        const candidate = host.nextPort;
        host.nextPort = candidate === 65535 ? FIRST_EPHEMERAL_PORT : candidate + 1;
        if (!host.ports.has(candidate)) {
          port = candidate;
          break;
        }
      }
      if (port === 0) throw new MccError('ERR_TRANSPORT', `no free port on simulated host ${host.host}`);
    } else if (host.ports.has(port)) {
      throw new MccError('ERR_TRANSPORT', `cannot bind simulated ${host.host}:${port}: address in use`, { details: { address: `${host.host}:${port}` } });
    }
    host.ports.set(port, endpoint);
    return port;
  }

  /** @internal */
  detach(site: SimSite, port: number): void {
    (site as SimHost).ports.delete(port);
  }

  /** @internal Send path: NAT translation, queue, loss, delay; schedules the arrival. */
  transmit(site: SimSite, port: number, to: Address, data: Uint8Array): boolean {
    const toHost = to?.host;
    const toPort = to?.port;
    if (typeof toHost !== 'string' || !Number.isInteger(toPort) || toPort < 0 || toPort > 65535 || !(data instanceof Uint8Array)) return false;
    const sender = site as SimHost;
    const size = data.byteLength;
    const stats = this.stats;
    stats.sent++;
    stats.bytesSent += size;
    const now = this.clock.now();
    const nat = sender.nat;
    let from: Address;
    let lan: SimNat | undefined;
    let link: LinkProfile;
    if (nat !== undefined && nat.lan.has(toHost)) {
      lan = nat;
      from = { host: sender.host, port };
      link = nat.lanLink;
    } else if (nat !== undefined) {
      const publicPort = nat.outbound(sender, port, toHost, toPort, now);
      if (publicPort < 0) return this.dropAtSend('nat-filter', sender.host, port, to, size);
      from = { host: nat.publicHost, port: publicPort };
      link = this.linkFor(sender.host, nat.publicHost, toHost);
    } else {
      from = { host: sender.host, port };
      link = this.linkFor(sender.host, undefined, toHost);
    }
    if (this.tap !== undefined) this.tap({ time: now, kind: 'send', from: { host: sender.host, port }, to: { host: toHost, port: toPort }, size });

    let queueDelay = 0;
    if (link.bandwidthBps !== undefined) {
      const queues = (sender.queues ??= new Map<string, number>());
      const busyUntil = Math.max(queues.get(toHost) ?? now, now);
      const backlogBytes = ((busyUntil - now) * link.bandwidthBps) / 8000;
      if (backlogBytes > 0 && backlogBytes + size > (link.queueBytes ?? DEFAULT_QUEUE_BYTES)) return this.dropAtSend('queue', sender.host, port, to, size);
      const done = busyUntil + (size * 8000) / link.bandwidthBps;
      queues.set(toHost, done);
      queueDelay = done - now;
    }
    const random = this.linkRandom;
    if (link.loss > 0 && random() < link.loss) return this.dropAtSend('loss', sender.host, port, to, size);

    // Copy: the sender may reuse its buffer as soon as send() returns, as with a real socket.
    const packet = new InFlight(from, toHost, toPort, this.copies.copy(data), lan);
    let delay = queueDelay + this.pathDelay(link);
    if (link.reorder > 0 && random() < link.reorder) delay += (link.reorderDelayMs ?? Math.max(10, link.latencyMs)) * (0.5 + random());
    this.clock.setTimeout(() => this.arrive(packet), delay);
    if (link.duplicate > 0 && random() < link.duplicate) {
      stats.duplicated++;
      const copy = new InFlight(from, toHost, toPort, this.copies.copy(data), lan);
      this.clock.setTimeout(() => this.arrive(copy), queueDelay + this.pathDelay(link));
    }
    return true;
  }

  /** Latency ± jitter, never negative. */
  private pathDelay(link: LinkProfile): number {
    if (link.jitterMs === 0) return link.latencyMs;
    return Math.max(0, link.latencyMs + link.jitterMs * (2 * this.linkRandom() - 1));
  }

  /** Receive path: the destination NAT's filter, then the listener. */
  private arrive(packet: InFlight): void {
    let host: SimHost | undefined;
    let port = packet.toPort;
    if (packet.lan !== undefined) {
      host = packet.lan.lan.get(packet.toHost);
    } else {
      const target = this.publicHosts.get(packet.toHost);
      if (target === undefined) return this.dropOnArrival('no-route', packet);
      if (target instanceof SimNat) {
        const inside = target.inbound(port, packet.from.host, packet.from.port, this.clock.now());
        if (inside === undefined) return this.dropOnArrival('nat-filter', packet);
        host = target.lan.get(inside.internalHost);
        port = inside.internalPort;
      } else {
        host = target;
      }
    }
    const endpoint = host?.ports.get(port);
    if (endpoint === undefined || !endpoint.deliver(packet.data, packet.from)) return this.dropOnArrival('no-listener', packet);
    this.stats.delivered++;
    this.stats.bytesDelivered += packet.data.byteLength;
    if (this.tap !== undefined)
      this.tap({ time: this.clock.now(), kind: 'deliver', from: packet.from, to: { host: packet.toHost, port: packet.toPort }, size: packet.data.byteLength });
  }

  private dropAtSend(reason: SimDropReason, host: string, port: number, to: Address, size: number): true {
    this.stats.dropped[reason]++;
    if (this.tap !== undefined) this.tap({ time: this.clock.now(), kind: 'drop', reason, from: { host, port }, to: { host: to.host, port: to.port }, size });
    return true; // a drop in the network is still a successful send for the sender
  }

  private dropOnArrival(reason: SimDropReason, packet: InFlight): void {
    this.stats.dropped[reason]++;
    if (this.tap !== undefined)
      this.tap({
        time: this.clock.now(),
        kind: 'drop',
        reason,
        from: packet.from,
        to: { host: packet.toHost, port: packet.toPort },
        size: packet.data.byteLength,
      });
  }

  /** Override lookup: the sender's own host first, then its NAT's public host, then the default. */
  private linkFor(senderHost: string, natHost: string | undefined, toHost: string): LinkProfile {
    if (this.links.size === 0) return this.defaultLink;
    return this.links.get(senderHost)?.get(toHost) ?? (natHost !== undefined ? this.links.get(natHost)?.get(toHost) : undefined) ?? this.defaultLink;
  }

  private linkMap(host: string): Map<string, LinkProfile> {
    let map = this.links.get(host);
    if (map === undefined) this.links.set(host, (map = new Map<string, LinkProfile>()));
    return map;
  }

  private checkNat(nat: SimNat): SimNat {
    if (!(nat instanceof SimNat) || this.publicHosts.get(nat.publicHost) !== nat) throw invalidArgument('nat', 'expected a NAT created by this network');
    return nat;
  }

  private addPublicHost(label: string | undefined): SimHost {
    const host = label ?? this.freshPublicLabel();
    const existing = this.publicHosts.get(host);
    if (existing instanceof SimNat) throw invalidArgument('host', `"${host}" is a NAT's public address`);
    if (existing !== undefined) return existing;
    const record: SimHost = { host, nat: undefined, index: this.publicHostCount++, ports: new Map(), nextPort: FIRST_EPHEMERAL_PORT, queues: undefined };
    this.publicHosts.set(host, record);
    return record;
  }

  /** Next unused '10.x.y.z' label, skipping .0 and .255 endings. */
  private freshPublicLabel(): string {
    for (;;) {
      const n = this.nextPublicIndex++;
      if (n > 0xfffffe) throw new MccError('ERR_LIMIT', 'the simulated network ran out of public addresses');
      const low = n & 255;
      if (low === 0 || low === 255) continue;
      const label = `10.${n >> 16}.${(n >> 8) & 255}.${low}`;
      if (!this.publicHosts.has(label)) return label;
    }
  }
}
