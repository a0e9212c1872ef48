/**
 * Which network interfaces a node announces itself on. The rule keeps announcements on the
 * interfaces the node is bound to, and keeps them off any interface that does not do
 * multicast: a node bound to `127.0.0.1` announces on loopback only, and only when that
 * loopback interface has multicast switched on (a Linux host's `lo` does not, a test's own
 * network namespace can), so nodes on loopback never put a datagram on a real network.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/** An interface LAN discovery uses: its name and IPv4 address with netmask. */
export interface LanInterface {
  /** Interface name (`eth0`, `lo`). */
  readonly name: string;
  /** Its IPv4 address: announcements leave from it and the multicast group is joined on it. */
  readonly address: string;
  /** Its IPv4 netmask: announcements from outside this subnet are ignored. */
  readonly netmask: string;
  /** True for a loopback interface. */
  readonly loopback: boolean;
}

/** One address of one interface, as `os.networkInterfaces()` lists it. */
export interface InterfaceAddress {
  readonly address: string;
  readonly netmask: string;
  readonly family: string;
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

/** True when `host` (IPv4) lies in the subnet of `lan`. */
export function inSubnet(host: string, lan: LanInterface): boolean {
  const ip = ipv4ToNumber(host);
  const base = ipv4ToNumber(lan.address);
  const mask = ipv4ToNumber(lan.netmask);
  if (ip === undefined || base === undefined || mask === undefined) return false;
  return (ip & mask) >>> 0 === (base & mask) >>> 0;
}

const WILDCARDS = new Set(['', '0.0.0.0', '::']);

/**
 * The interfaces a node bound to `boundHost` announces on: for a wildcard bind every
 * interface that is up and multicast-capable; for a specific IPv4 address the interface that
 * holds it (or whose subnet contains it: `127.0.0.2` is on `lo`), if that one is. An IPv6
 * bind other than `::` gets none (announcements are IPv4: peers would answer at an address
 * the node does not listen on). Where flags cannot be read, loopback is never used and other
 * interfaces are assumed multicast-capable.
 */
export function lanInterfaces(
  boundHost: string,
  interfaces: Record<string, readonly InterfaceAddress[] | undefined> = networkInterfaces(),
  flagsOf: (name: string) => number | undefined = readInterfaceFlags,
): LanInterface[] {
  const wildcard = WILDCARDS.has(boundHost);
  if (!wildcard && isIP(boundHost) !== 4) return [];
  const out: LanInterface[] = [];
  for (const [name, addresses] of Object.entries(interfaces)) {
    const v4 = (addresses ?? []).filter((entry) => entry.family === 'IPv4' || (entry.family as unknown) === 4);
    if (v4.length === 0) continue;
    const loopback = v4.some((entry) => entry.internal);
    const flags = flagsOf(name);
    const usable = flags === undefined ? !loopback : (flags & IFF_UP) !== 0 && (flags & IFF_MULTICAST) !== 0;
    if (!usable) continue;
    for (const entry of v4) {
      const lan = { name, address: entry.address, netmask: entry.netmask, loopback: loopback || (flags !== undefined && (flags & IFF_LOOPBACK) !== 0) };
      if (wildcard || entry.address === boundHost || inSubnet(boundHost, lan)) {
        out.push(lan);
        break; // one address per interface: the group is joined once per interface
      }
    }
  }
  return out;
}
