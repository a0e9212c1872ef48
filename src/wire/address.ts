/**
 * Conversions between the transport's text {@link Address} and the wire's
 * `SocketAddress { ip: 4 or 16 bytes, port }`. Sending side throws on bad arguments;
 * the receiving side ({@link fromSocketAddress}) returns null so bad input is dropped.
 */
import { isIP } from 'node:net';
import { invalidArgument } from '../errors.js';
import type { Address } from '../util/address.js';
import type { SocketAddress } from './generated/mcc.types.js';
import { LruMap } from '../util/lru.js';

/** Parses an IPv4 or IPv6 literal into 4 or 16 bytes; null when `host` is not an IP literal. A `%zone` suffix is ignored. */
export function ipToBytes(host: string): Uint8Array | null {
  // Contacts are encoded over and over (every FIND answer): parse each host string once.
  const cached = parsedHosts.get(host);
  if (cached !== undefined) return cached.slice();
  const bytes = parseIp(host);
  if (bytes) parsedHosts.set(host, bytes);
  return bytes;
}

const parsedHosts = new LruMap<string, Uint8Array>(4096);

function parseIp(host: string): Uint8Array | null {
  const family = isIP(host);
  if (family === 4) {
    const parts = host.split('.');
    const out = new Uint8Array(4);
    for (let i = 0; i < 4; i++) out[i] = Number(parts[i]);
    return out;
  }
  if (family !== 6) return null;
  let text = host;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const out = new Uint8Array(16);
  // An embedded dotted quad (::ffff:1.2.3.4) occupies the last 4 bytes.
  let tailV4: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) >= 0) {
    tailV4 = parseIp(text.slice(lastColon + 1));
    if (!tailV4) return null;
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = new Array<number>(8).fill(0);
  headGroups.forEach((g, i) => (groups[i] = parseInt(g, 16)));
  tailGroups.forEach((g, i) => (groups[8 - tailGroups.length + i] = parseInt(g, 16)));
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i] >> 8;
    out[2 * i + 1] = groups[i] & 0xff;
  }
  if (tailV4) out.set(tailV4, 12);
  return out;
}

/** Formats 4 or 16 bytes as an IP literal (IPv6 in RFC 5952 form, `::ffff:a.b.c.d` for v4-mapped); null for other lengths. */
export function bytesToIp(bytes: Uint8Array): string | null {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) return null;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  const isV4Mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isV4Mapped) return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first one on ties.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/**
 * Address -> SocketAddress for sending.
 * @throws MccError `ERR_INVALID_ARGUMENT` when the host is not an IP literal or the port is out of range.
 */
export function toSocketAddress(address: Address, argument = 'address'): SocketAddress {
  const ip = ipToBytes(address.host);
  if (!ip) throw invalidArgument(argument, `host "${address.host}" is not an IP literal`);
  if (!Number.isInteger(address.port) || address.port < 0 || address.port > 65535) {
    throw invalidArgument(argument, `port ${address.port} out of range`);
  }
  return { ip, port: address.port };
}

/**
 * SocketAddress (from the wire) -> Address; null when the ip is not 4/16 bytes or the port is not 0..65535.
 * A v4-mapped IPv6 address (`::ffff:a.b.c.d`, as a dual-stack sender may write it) comes back as
 * plain IPv4, the one spelling the transports use for IPv4 peers: an IPv4-only node can then
 * reach it, and routing tables, records and the subnet rule see one host, not two.
 */
export function fromSocketAddress(socketAddress: SocketAddress | null | undefined): Address | null {
  if (!socketAddress?.ip) return null;
  const ip = socketAddress.ip;
  const host = bytesToIp(ip.length === 16 && isV4Mapped(ip) ? ip.subarray(12) : ip);
  const port = socketAddress.port ?? 0;
  if (host === null || !Number.isInteger(port) || port < 0 || port > 65535) return null;
  return { host, port };
}

/** True for the 16 bytes of `::ffff:a.b.c.d`. */
function isV4Mapped(ip: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}
