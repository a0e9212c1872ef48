/**
 * Which destinations a socket can send to, judged from the address it is bound to. In a mixed
 * network (IPv4-only, IPv6-only and dual-stack nodes) contacts and provider addresses of the
 * other family arrive all the time through dual-stack peers; trying them only costs a timeout,
 * so the node skips them up front (routing table) or tries them last (connect).
 */
import { isIP } from 'node:net';
import type { Address } from '../util/address.js';
import { unmapIpv4 } from './udp.js';

/** The address families a bound socket can reach. */
export interface Reach {
  /** IPv4 destinations (plain or `::ffff:`-mapped). */
  v4: boolean;
  /** IPv6 destinations. */
  v6: boolean;
}

/**
 * What a socket bound at `bound` can send to: `::` is dual stack, `0.0.0.0` and IPv4 literals
 * IPv4 only, other IPv6 literals IPv6 only. Non-IP hosts (simulated network labels) and an
 * unknown binding reach everything.
 */
export function reachOf(bound: Address | undefined): Reach {
  if (bound === undefined) return { v4: true, v6: true };
  const host = unmapIpv4(bound.host);
  const family = isIP(host);
  if (family === 4) return { v4: true, v6: false };
  if (family === 6 && host !== '::') return { v4: false, v6: true };
  return { v4: true, v6: true };
}

/** True when `reach` covers the family of `address` (always for non-IP hosts). */
export function canReach(reach: Reach, address: Address): boolean {
  const family = isIP(address.host);
  if (family === 4) return reach.v4;
  if (family === 6) return unmapIpv4(address.host) !== address.host ? reach.v4 : reach.v6;
  return true;
}

/**
 * The `addresses` a socket with `reach` can send to, in their listed order (the provider's
 * preference). The others are dropped, not tried last: the binding makes sending to them
 * impossible (the transport refuses at once), so each would only cost a handshake timeout.
 */
export function reachableAddresses(reach: Reach, addresses: readonly Address[]): Address[] {
  return addresses.filter((address) => canReach(reach, address));
}
