/**
 * Which destinations a socket can send to, judged from the address it is bound to and, for a
 * wildcard binding, from the host's interfaces. In a mixed network (IPv4-only, IPv6-only and
 * dual-stack nodes) contacts and provider addresses of the other family arrive all the time
 * through dual-stack peers; trying them only costs a timeout, so the node skips them.
 */
import { isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import type { Address } from '../util/address.js';
import { unmapIpv4 } from './udp.js';

/** The destinations a bound socket can reach, by family and scope. */
export interface Reach {
  /** Non-loopback IPv4 destinations (plain or `::ffff:`-mapped). */
  v4: boolean;
  /** Non-loopback IPv6 destinations. */
  v6: boolean;
  /** 127.0.0.0/8. */
  v4Loopback: boolean;
  /** ::1. */
  v6Loopback: boolean;
}

const EVERYWHERE: Reach = { v4: true, v6: true, v4Loopback: true, v6Loopback: true };

/**
 * What a socket bound at `bound` can send to. An IPv4 literal or `0.0.0.0` reaches IPv4 only,
 * an IPv6 literal other than `::` IPv6 only. The dual-stack wildcard `::` reaches loopback in
 * both families, and beyond it each family the host has a non-loopback address of (a
 * link-local IPv6 address does not count: peers' addresses are global or unique-local). An
 * unknown binding or a non-IP host (simulated network labels) reaches everything.
 */
export function reachOf(bound: Address | undefined, interfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces): Reach {
  if (bound === undefined) return EVERYWHERE;
  const host = unmapIpv4(bound.host);
  const family = isIP(host);
  if (family === 0) return EVERYWHERE;
  if (family === 4) return { v4: true, v6: false, v4Loopback: true, v6Loopback: false };
  if (host !== '::') return { v4: false, v6: true, v4Loopback: false, v6Loopback: true };
  return wildcardReach(interfaces);
}

// Called for every contact in every answer: the interface list is read at most once a minute.
let cached: { at: number; reach: Reach; source: unknown } | undefined;
const INTERFACES_TTL_MS = 60_000;

function wildcardReach(interfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]>): Reach {
  const now = Date.now();
  if (cached && cached.source === interfaces && now - cached.at < INTERFACES_TTL_MS) return cached.reach;
  const reach: Reach = { v4: false, v6: false, v4Loopback: true, v6Loopback: true };
  for (const entries of Object.values(interfaces())) {
    for (const entry of entries ?? []) {
      if (entry.internal) continue;
      if (entry.family === 'IPv4') reach.v4 = true;
      else if (!entry.address.toLowerCase().startsWith('fe80')) reach.v6 = true;
    }
  }
  cached = { at: now, reach, source: interfaces };
  return reach;
}

/** True when `reach` covers `address` (always for non-IP hosts). */
export function canReach(reach: Reach, address: Address): boolean {
  const host = unmapIpv4(address.host);
  const family = isIP(host);
  if (family === 4) return host.startsWith('127.') ? reach.v4Loopback : reach.v4;
  if (family === 6) return host === '::1' ? reach.v6Loopback : reach.v6;
  return true;
}

/**
 * The `addresses` a socket with `reach` can send to, in their listed order (the provider's
 * preference). The others are dropped, not tried last: sending to them cannot work (the
 * transport refuses, or the host has no route), so each would only cost a handshake timeout.
 */
export function reachableAddresses(reach: Reach, addresses: readonly Address[]): Address[] {
  return addresses.filter((address) => canReach(reach, address));
}
