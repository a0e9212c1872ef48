/** The addresses a node can be reached at on this machine's own interfaces. */
import { networkInterfaces } from 'node:os';
import type { Address } from './address.js';

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/**
 * Concrete addresses for a bound socket: the bound address itself, or for a wildcard bind
 * every non-internal interface address (IPv6 link-local left out: it needs a scope ID), and
 * loopback last so that nodes on the same machine still find each other.
 */
export function localAddresses(bound: Address): Address[] {
  if (!WILDCARDS.has(bound.host)) return [bound];
  const v6 = bound.host === '::';
  const out: Address[] = [];
  const loopback: Address[] = [];
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.family === 'IPv6' && (!v6 || entry.address.toLowerCase().startsWith('fe80'))) continue;
      const address = { host: entry.address, port: bound.port };
      (entry.internal ? loopback : out).push(address);
    }
  }
  return [...out, ...loopback].slice(0, 8);
}
