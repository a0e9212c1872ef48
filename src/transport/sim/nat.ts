/**
 * NAT and firewall models of the simulated network, in RFC 4787 terms:
 *
 * | type              | mapping                          | filtering                              |
 * | ----------------- | -------------------------------- | -------------------------------------- |
 * | `full-cone`       | endpoint-independent             | endpoint-independent                   |
 * | `port-restricted` | endpoint-independent             | address-and-port-dependent             |
 * | `symmetric`       | address-and-port-dependent       | address-and-port-dependent             |
 * | `udp-blocked`     | endpoint-independent, but only towards `allowedHosts` | address-and-port-dependent |
 *
 * Mappings (and the filter permissions they carry) expire after
 * `mappingTimeoutMs` without *outbound* traffic; inbound traffic does not refresh
 * them (RFC 4787 REQ-6 makes outbound refresh the mandatory direction). Hairpinning
 * (an inside host reaching another inside host through the NAT's public address)
 * is not modelled: such datagrams are dropped as `nat-filter`. Inside hosts reach
 * each other directly by their private addresses (same LAN). Nested NATs are not
 * modelled. Expired state is swept lazily (no timers), so an idle NAT costs nothing.
 *
 * The hosts on a NAT's LAN live here too ({@link SimHost}), because the NAT owns
 * its private address space: two NATs may hand out the same private address.
 */
import { invalidArgument } from '../../errors.js';
import type { Address } from '../../util/address.js';
import type { Clock } from '../../util/clock.js';
import { DEFAULT_LAN_LINK, resolveLink, type LinkProfile } from './link.js';
import type { RandomSource } from './random.js';
import type { SimEndpoint } from './types.js';

/** NAT behaviours the simulator models. */
export type SimNatType = 'full-cone' | 'port-restricted' | 'symmetric' | 'udp-blocked';

/** How a NAT picks the public port of a new mapping. */
export type SimPortStrategy = 'preserve' | 'random' | 'sequential';

/** Options of {@link SimNetwork.createNat}. */
export interface SimNatOptions {
  /** Mapping and filtering behaviour. */
  type: SimNatType;
  /** Idle time after which a mapping (and its filter permissions) expires. Default 120 000 ms. */
  mappingTimeoutMs?: number;
  /** The NAT's public address label; allocated by the network when omitted. */
  publicHost?: string;
  /** For `udp-blocked`: the only public hosts UDP may reach (and come back from), e.g. a relay. */
  allowedHosts?: string[];
  /** Public port choice. Default `random` for `symmetric`, `preserve` (keep the inside port when free) otherwise. */
  portStrategy?: SimPortStrategy;
  /** Link profile between hosts on this NAT's LAN. Default 0.5 ms, lossless. */
  lanLink?: Partial<LinkProfile>;
}

/** A machine on the simulated network: public, or on the LAN behind `nat`. */
export interface SimHost {
  /** Its address label (private for LAN hosts). */
  readonly host: string;
  /** The NAT it sits behind, if any. */
  readonly nat: SimNat | undefined;
  /** Small integer unique within the host's address space, used to build numeric map keys. */
  readonly index: number;
  /** Bound transports by port. */
  readonly ports: Map<number, SimEndpoint>;
  /** Next port to try for port-0 binds. */
  nextPort: number;
  /** Bandwidth queues: destination host → time the link towards it is busy until. Created on first use. */
  queues: Map<string, number> | undefined;
}

/** A live NAT mapping as reported by {@link SimNat.mappings}. */
export interface SimNatMappingInfo {
  /** Inside endpoint. */
  internal: Address;
  /** Public endpoint the outside world sees. */
  external: Address;
  /** For `symmetric` NATs, the only remote endpoint this mapping serves. */
  remote?: Address;
}

const MIN_PUBLIC_PORT = 1024;
const PUBLIC_PORT_SPAN = 65536 - MIN_PUBLIC_PORT;
const MIN_SWEEP_SIZE = 256;

/** One mapping; its filter state travels with it. */
class NatMapping {
  /** remote host → remote port → last outbound time; only for address-and-port-dependent filtering. */
  permits: Map<string, Map<number, number>> | undefined;
  /** Permission-table size that triggers the next prune of expired permissions. */
  permitSweepAt = MIN_SWEEP_SIZE;
  constructor(
    readonly internalHost: string,
    readonly internalPort: number,
    readonly internalKey: number,
    readonly publicPort: number,
    public lastActive: number,
    readonly remoteHost: string | undefined,
    readonly remotePort: number,
  ) {}
}

/** A simulated NAT (or firewall) in front of a private LAN. Create with {@link SimNetwork.createNat}. */
export class SimNat {
  /** Mapping/filtering behaviour. */
  readonly type: SimNatType;
  /** Public address label. */
  readonly publicHost: string;
  /** Idle expiry of mappings in ms. */
  readonly mappingTimeoutMs: number;
  /** Public port choice. */
  readonly portStrategy: SimPortStrategy;
  /** For `udp-blocked`: the hosts UDP may reach. */
  readonly allowedHosts: ReadonlySet<string> | undefined;
  /** Link profile between hosts of this LAN. */
  readonly lanLink: LinkProfile;
  /** Hosts on the LAN by private address. @internal (owned by the network) */
  readonly lan = new Map<string, SimHost>();
  private readonly endpointMappings = new Map<number, NatMapping>();
  private readonly perRemoteMappings = new Map<number, Map<string, Map<number, NatMapping>>>();
  private readonly byPublicPort = new Map<number, NatMapping>();
  private nextSequentialPort = MIN_PUBLIC_PORT;
  private sweepAt = MIN_SWEEP_SIZE;
  private nextLanIndex = 2;

  /** @internal Use {@link SimNetwork.createNat}. */
  constructor(
    options: SimNatOptions,
    publicHost: string,
    private readonly random: RandomSource,
    private readonly clock: Clock,
  ) {
    const types: SimNatType[] = ['full-cone', 'port-restricted', 'symmetric', 'udp-blocked'];
    if (!types.includes(options.type)) throw invalidArgument('type', `expected one of ${types.join(', ')}`);
    const timeout = options.mappingTimeoutMs ?? 120_000;
    if (!(typeof timeout === 'number' && timeout > 0)) throw invalidArgument('mappingTimeoutMs', 'expected a number > 0');
    const strategy = options.portStrategy ?? (options.type === 'symmetric' ? 'random' : 'preserve');
    if (!['preserve', 'random', 'sequential'].includes(strategy)) throw invalidArgument('portStrategy', 'expected preserve, random or sequential');
    if (options.allowedHosts !== undefined && !Array.isArray(options.allowedHosts)) throw invalidArgument('allowedHosts', 'expected an array of hosts');
    this.type = options.type;
    this.publicHost = publicHost;
    this.mappingTimeoutMs = timeout;
    this.portStrategy = strategy;
    this.allowedHosts = options.type === 'udp-blocked' ? new Set(options.allowedHosts ?? []) : undefined;
    this.lanLink = resolveLink(options.lanLink, DEFAULT_LAN_LINK, 'lanLink');
  }

  /** @internal Registers a LAN host (allocating a 192.168.x.y address when `host` is omitted). */
  addHost(host: string | undefined): SimHost {
    while (host === undefined) {
      const n = this.nextLanIndex++;
      if (n > 0xfffe) throw invalidArgument('nat', 'the LAN has no free private address left');
      const low = n & 255;
      if (low === 0 || low === 255) continue; // network and broadcast-looking labels
      const candidate = `192.168.${n >> 8}.${low}`;
      if (!this.lan.has(candidate)) host = candidate;
    }
    let record = this.lan.get(host);
    if (record === undefined) {
      record = { host, nat: this, index: this.lan.size, ports: new Map(), nextPort: 49152, queues: undefined };
      this.lan.set(host, record);
    }
    return record;
  }

  /** Number of mappings held (live or expired but not yet swept). */
  get mappingCount(): number {
    return this.byPublicPort.size;
  }

  /** The live (unexpired) mappings at time `now` (default: the network clock's now), for tests and diagnostics. */
  mappings(now: number = this.clock.now()): SimNatMappingInfo[] {
    const out: SimNatMappingInfo[] = [];
    for (const m of this.byPublicPort.values()) {
      if (!this.alive(m.lastActive, now)) continue;
      const info: SimNatMappingInfo = { internal: { host: m.internalHost, port: m.internalPort }, external: { host: this.publicHost, port: m.publicPort } };
      if (m.remoteHost !== undefined) info.remote = { host: m.remoteHost, port: m.remotePort };
      out.push(info);
    }
    return out;
  }

  /**
   * @internal Translates an outbound datagram from `source:port` to `toHost:toPort`:
   * creates or refreshes the mapping and the filter permission. Returns the public
   * port, or -1 when the NAT refuses to forward it.
   */
  outbound(source: SimHost, port: number, toHost: string, toPort: number, now: number): number {
    if (toHost === this.publicHost) return -1; // no hairpinning
    if (this.allowedHosts !== undefined && !this.allowedHosts.has(toHost)) return -1;
    const key = source.index * 65536 + port;
    const symmetric = this.type === 'symmetric';
    let mapping = symmetric ? this.perRemoteMappings.get(key)?.get(toHost)?.get(toPort) : this.endpointMappings.get(key);
    if (mapping !== undefined && !this.alive(mapping.lastActive, now)) {
      this.forget(mapping);
      mapping = undefined;
    }
    if (mapping === undefined) {
      mapping = symmetric ? this.createMapping(source.host, port, key, now, toHost, toPort) : this.createMapping(source.host, port, key, now, undefined, 0);
      if (mapping === undefined) return -1;
      if (symmetric) {
        let byHost = this.perRemoteMappings.get(key);
        if (byHost === undefined) this.perRemoteMappings.set(key, (byHost = new Map<string, Map<number, NatMapping>>()));
        let byPort = byHost.get(toHost);
        if (byPort === undefined) byHost.set(toHost, (byPort = new Map<number, NatMapping>()));
        byPort.set(toPort, mapping);
      } else {
        this.endpointMappings.set(key, mapping);
      }
    }
    if (!symmetric && this.type !== 'full-cone') this.permit(mapping, toHost, toPort, now);
    mapping.lastActive = now;
    return mapping.publicPort;
  }

  /**
   * @internal Filters an inbound datagram to `publicPort` from `fromHost:fromPort`.
   * Returns the mapping (its inside host and port) or undefined when filtered.
   */
  inbound(publicPort: number, fromHost: string, fromPort: number, now: number): { internalHost: string; internalPort: number } | undefined {
    const mapping = this.byPublicPort.get(publicPort);
    if (mapping === undefined || !this.alive(mapping.lastActive, now)) return undefined;
    switch (this.type) {
      case 'full-cone':
        return mapping;
      case 'symmetric':
        return mapping.remoteHost === fromHost && mapping.remotePort === fromPort ? mapping : undefined;
      default: {
        const sentAt = mapping.permits?.get(fromHost)?.get(fromPort);
        return sentAt !== undefined && this.alive(sentAt, now) ? mapping : undefined;
      }
    }
  }

  /** Records that the inside host sent to `host:port`, pruning expired permissions now and then. */
  private permit(mapping: NatMapping, host: string, port: number, now: number): void {
    const permits = (mapping.permits ??= new Map<string, Map<number, number>>());
    let ports = permits.get(host);
    if (ports === undefined) {
      if (permits.size >= mapping.permitSweepAt) {
        for (const [remoteHost, remotePorts] of permits) {
          for (const [remotePort, sentAt] of remotePorts) if (!this.alive(sentAt, now)) remotePorts.delete(remotePort);
          if (remotePorts.size === 0) permits.delete(remoteHost);
        }
        mapping.permitSweepAt = Math.max(MIN_SWEEP_SIZE, permits.size * 2);
      }
      permits.set(host, (ports = new Map<number, number>()));
    }
    ports.set(port, now);
  }

  private alive(lastActive: number, now: number): boolean {
    return now - lastActive <= this.mappingTimeoutMs;
  }

  private createMapping(host: string, port: number, key: number, now: number, remoteHost: string | undefined, remotePort: number): NatMapping | undefined {
    if (this.byPublicPort.size >= this.sweepAt) this.sweep(now);
    const publicPort = this.choosePort(port, now);
    if (publicPort < 0) return undefined;
    const mapping = new NatMapping(host, port, key, publicPort, now, remoteHost, remotePort);
    this.byPublicPort.set(publicPort, mapping);
    return mapping;
  }

  /** A public port with no live mapping (an expired one there is evicted), or -1 when all are taken. */
  private choosePort(insidePort: number, now: number): number {
    if (this.portStrategy === 'preserve' && insidePort >= MIN_PUBLIC_PORT && this.claim(insidePort, now)) return insidePort;
    if (this.portStrategy === 'sequential') {
      for (let i = 0; i < PUBLIC_PORT_SPAN; i++) {
        const candidate = this.nextSequentialPort;
        this.nextSequentialPort = candidate === 65535 ? MIN_PUBLIC_PORT : candidate + 1;
        if (this.claim(candidate, now)) return candidate;
      }
      return -1;
    }
    for (let i = 0; i < 64; i++) {
      const candidate = MIN_PUBLIC_PORT + Math.floor(this.random() * PUBLIC_PORT_SPAN);
      if (this.claim(candidate, now)) return candidate;
    }
    for (let candidate = MIN_PUBLIC_PORT; candidate <= 65535; candidate++) if (this.claim(candidate, now)) return candidate;
    return -1;
  }

  /** True when `port` is free (evicting an expired mapping that held it). */
  private claim(port: number, now: number): boolean {
    const holder = this.byPublicPort.get(port);
    if (holder === undefined) return true;
    if (this.alive(holder.lastActive, now)) return false;
    this.forget(holder);
    return true;
  }

  private forget(mapping: NatMapping): void {
    this.byPublicPort.delete(mapping.publicPort);
    if (mapping.remoteHost === undefined) {
      if (this.endpointMappings.get(mapping.internalKey) === mapping) this.endpointMappings.delete(mapping.internalKey);
      return;
    }
    const byHost = this.perRemoteMappings.get(mapping.internalKey);
    const byPort = byHost?.get(mapping.remoteHost);
    if (byPort?.get(mapping.remotePort) !== mapping) return;
    byPort.delete(mapping.remotePort);
    if (byPort.size === 0) byHost!.delete(mapping.remoteHost);
    if (byHost!.size === 0) this.perRemoteMappings.delete(mapping.internalKey);
  }

  /** Drops expired mappings; amortised by doubling the threshold, so the cost per new mapping stays O(1). */
  private sweep(now: number): void {
    for (const mapping of this.byPublicPort.values()) if (!this.alive(mapping.lastActive, now)) this.forget(mapping);
    this.sweepAt = Math.max(MIN_SWEEP_SIZE, this.byPublicPort.size * 2);
  }
}
