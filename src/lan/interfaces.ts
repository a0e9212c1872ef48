/**
 * Which network interfaces a node announces itself on, per address family. The rule keeps
 * announcements on the interfaces the node is bound to, and keeps them off any interface that
 * does not do multicast: a node bound to `127.0.0.1` announces on loopback only, and only when
 * that loopback interface has multicast switched on (a Linux host's `lo` does not, a test's own
 * network namespace can), so nodes on loopback never put a datagram on a real network. IPv6
 * announcements never use a loopback interface (see {@link lanInterfaces}).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { ipToBytes } from '../wire/address.js';

/** An address with its netmask: a subnet of an interface. */
export interface LanSubnet {
  readonly address: string;
  readonly netmask: string;
}

/** An interface LAN discovery uses, for one address family. */
export interface LanInterface {
  /** Interface name (`eth0`, `lo`). */
  readonly name: string;
  /** 4 or 6: which multicast group is used on it. */
  readonly family: 4 | 6;
  /**
   * The address announcements leave from: the receiver contacts the node at the datagram's
   * source, so this is an address the node's UDP socket serves on this link. IPv6 link-local
   * addresses carry their zone (`fe80::1%eth0`).
   */
  readonly address: string;
  /** The netmask of {@link address}. */
  readonly netmask: string;
  /** Every subnet of the interface in this family: announcements from outside them are ignored. */
  readonly subnets: readonly LanSubnet[];
  /** True for a loopback interface. */
  readonly loopback: boolean;
}

/** One address of one interface, as `os.networkInterfaces()` lists it. */
export interface InterfaceAddress {
  readonly address: string;
  readonly netmask: string;
  readonly family: string | number;
  readonly internal: boolean;
}

/** Linux `IFF_UP`. */
export const IFF_UP = 0x1;
/** Linux `IFF_LOOPBACK`. */
export const IFF_LOOPBACK = 0x8;
/** Linux `IFF_MULTICAST`. */
export const IFF_MULTICAST = 0x1000;

/** The interface flags from `/sys/class/net/<name>/flags`; undefined where there is no sysfs (not Linux). */
export function readInterfaceFlags(name: string): number | undefined {
  if (!/^[\w.:@-]+$/.test(name)) return undefined;
  try {
    const flags = Number.parseInt(readFileSync(`/sys/class/net/${name}/flags`, 'utf8').trim(), 16);
    return Number.isFinite(flags) ? flags : undefined;
  } catch {
    return undefined;
  }
}

/** The IPv4 address as a 32-bit number; undefined when `host` is not dotted IPv4. */
export function ipv4ToNumber(host: string): number | undefined {
  if (isIP(host) !== 4) return undefined;
  return host.split('.').reduce((value, part) => value * 256 + Number(part), 0);
}

/** The zone of an IPv6 literal (`eth0` of `fe80::1%eth0`), or undefined. */
export function zoneOf(host: string): string | undefined {
  const at = host.indexOf('%');
  return at < 0 ? undefined : host.slice(at + 1);
}

/** True for an IPv6 link-local unicast address (fe80::/10). */
export function isLinkLocal6(host: string): boolean {
  const bytes = isIP(host) === 6 ? ipToBytes(host) : null;
  return bytes !== null && bytes[0] === 0xfe && (bytes[1] & 0xc0) === 0x80;
}

function sameSubnet(host: string, subnet: LanSubnet): boolean {
  const family = isIP(host);
  if (family === 0 || family !== isIP(subnet.address)) return false;
  const [ip, base, mask] = [ipToBytes(host), ipToBytes(subnet.address), ipToBytes(subnet.netmask)];
  if (ip === null || base === null || mask === null || mask.length !== ip.length || base.length !== ip.length) return false;
  return ip.every((byte, i) => (byte & mask[i]) === (base[i] & mask[i]));
}

/**
 * True when `host` lies in a subnet of `lan`, in its family. An IPv6 link-local source must
 * also carry `lan`'s zone when it has one (the same fe80::/64 is on every link).
 */
export function inSubnet(host: string, lan: LanInterface): boolean {
  if (lan.family === 6 && isLinkLocal6(host)) {
    const zone = zoneOf(host);
    if (zone !== undefined && zone !== lan.name) return false;
  }
  return lan.subnets.some((subnet) => sameSubnet(host, subnet));
}

const WILDCARDS = new Set(['', '0.0.0.0', '::']);

function familyOf(entry: InterfaceAddress): 4 | 6 | undefined {
  if (entry.family === 'IPv4' || entry.family === 4) return 4;
  if (entry.family === 'IPv6' || entry.family === 6) return 6;
  return undefined;
}

/** The address an IPv6 announcement leaves from on `name`: the bound one, else a global or ULA one (reachable beyond the link, and the mesh can hand it on), else link-local with its zone. */
function announceAddress6(name: string, entries: readonly InterfaceAddress[], boundHost: string, wildcard: boolean): InterfaceAddress | undefined {
  if (!wildcard) {
    const zone = zoneOf(boundHost);
    if (zone !== undefined && zone !== name) return undefined;
    const bound = ipToBytes(boundHost);
    return entries.find((entry) => {
      const bytes = ipToBytes(entry.address);
      return bound !== null && bytes !== null && bytes.every((byte, i) => byte === bound[i]);
    });
  }
  return entries.find((entry) => !isLinkLocal6(entry.address)) ?? entries.find((entry) => isLinkLocal6(entry.address));
}

/**
 * The interfaces a node bound to `boundHost` announces on, one entry per family: for the
 * wildcard `::` (dual stack) both families on every interface that is up and
 * multicast-capable; for `0.0.0.0` or a specific IPv4 address, IPv4 only (the interface that
 * holds the address, or whose subnet contains it: `127.0.0.2` is on `lo`); for a specific
 * IPv6 address, IPv6 only, on the interface holding it. IPv6 never uses a loopback interface:
 * Linux turns a route through `lo` to a non-loopback address into a reject route, so ff02::
 * multicast there is dropped; a node bound to `::1` announces nowhere. Where flags cannot be
 * read, loopback is never used and other interfaces are assumed multicast-capable.
 */
export function lanInterfaces(
  boundHost: string,
  interfaces: Record<string, readonly InterfaceAddress[] | undefined> = networkInterfaces(),
  flagsOf: (name: string) => number | undefined = readInterfaceFlags,
): LanInterface[] {
  const wildcard = WILDCARDS.has(boundHost);
  const boundFamily = isIP(boundHost);
  const want4 = boundHost === '::' || boundHost === '' || boundFamily === 4;
  const want6 = boundHost === '::' || boundHost === '' || (boundFamily === 6 && !wildcard);
  const out: LanInterface[] = [];
  for (const [name, addresses] of Object.entries(interfaces)) {
    const entries = addresses ?? [];
    const flags = flagsOf(name);
    const loopback = entries.some((entry) => entry.internal) || (flags !== undefined && (flags & IFF_LOOPBACK) !== 0);
    const usable = flags === undefined ? !loopback : (flags & IFF_UP) !== 0 && (flags & IFF_MULTICAST) !== 0;
    if (!usable) continue;
    const v4 = entries.filter((entry) => familyOf(entry) === 4);
    const subnets4 = v4.map(({ address, netmask }) => ({ address, netmask }));
    for (const entry of want4 ? v4 : []) {
      const lan: LanInterface = { name, family: 4, address: entry.address, netmask: entry.netmask, subnets: subnets4, loopback };
      if (wildcard || entry.address === boundHost || sameSubnet(boundHost, entry)) {
        out.push(lan);
        break; // one address per interface: the group is joined once per interface
      }
    }
    if (!want6 || loopback) continue;
    const v6 = entries.filter((entry) => familyOf(entry) === 6);
    const chosen = announceAddress6(name, v6, boundHost, wildcard);
    if (chosen === undefined) continue;
    const address = isLinkLocal6(chosen.address) && zoneOf(chosen.address) === undefined ? `${chosen.address}%${name}` : chosen.address;
    const subnets = v6.map((entry) => ({ address: entry.address.replace(/%.*$/, ''), netmask: entry.netmask }));
    out.push({ name, family: 6, address, netmask: chosen.netmask, subnets, loopback });
  }
  return out;
}
