/**
 * Subnet grouping for the routing table's diversity rule: at most a few contacts per
 * IPv4 /24 or IPv6 /48 in one bucket, so one host or provider cannot fill the table.
 */
import { isIP } from 'node:net';

/**
 * The subnet group of a host, or undefined when the rule does not apply: loopback and
 * private (LAN) sources are exempt, because an authenticated session from such an address
 * means the peer really is on this host or LAN, where many nodes legitimately share a /24.
 * Non-IP hosts (simulated network labels) group by the whole label.
 */
export function subnetGroup(host: string): string | number | undefined {
  // Hosts repeat (every message from a peer); parsing them each time showed in profiles.
  const cached = cache.get(host);
  if (cached !== undefined || cache.has(host)) return cached;
  if (cache.size >= CACHE_SIZE) cache.clear();
  const group = computeGroup(host);
  cache.set(host, group);
  return group;
}

const CACHE_SIZE = 4096;
const cache = new Map<string, string | number | undefined>();

function computeGroup(host: string): string | number | undefined {
  const family = isIP(host);
  if (family === 4) return ipv4Group(host);
  if (family === 6) return ipv6Group(host);
  return host;
}

/** IPv4 /24 as a number (no allocation); undefined for loopback, private and link-local. */
function ipv4Group(host: string): number | undefined {
  const parts = host.split('.');
  const a = Number(parts[0]);
  const b = Number(parts[1]);
  const c = Number(parts[2]);
  if (a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254)) return undefined;
  return (a << 16) | (b << 8) | c;
}

function ipv6Group(host: string): string | number | undefined {
  const lower = host.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return ipv4Group(mapped[1]);
  const groups = expandIpv6(lower);
  if (groups === undefined) return lower;
  const first = groups[0];
  const isLoopback = groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1;
  if (isLoopback || (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80) return undefined;
  // NAT64 (64:ff9b::/96, RFC 6052) carries a whole IPv4 internet in one /48: group by the embedded IPv4 /24.
  if (first === 0x64 && groups[1] === 0xff9b && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0) {
    return ipv4Group(`${groups[6] >> 8}.${groups[6] & 0xff}.${groups[7] >> 8}.${groups[7] & 0xff}`);
  }
  return `${groups[0].toString(16)}:${groups[1].toString(16)}:${groups[2].toString(16)}`;
}

/** The eight 16-bit groups of an IPv6 literal (zone index dropped). */
function expandIpv6(host: string): number[] | undefined {
  let bare = host.split('%')[0];
  // A dotted IPv4 tail (64:ff9b::192.0.2.1) stands for the last two groups.
  const dotted = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(bare);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(2).map(Number);
    if (![a, b, c, d].every((x) => x <= 255)) return undefined;
    bare = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = bare.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const all = [...head, ...new Array<string>(missing).fill('0'), ...tail].map((g) => parseInt(g, 16));
  return all.length === 8 && all.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? all : undefined;
}
