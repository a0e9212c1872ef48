/** UDP endpoint addresses and their text form (`host:port`, `[v6]:port`). */
import { isIP } from 'node:net';
import { invalidArgument } from '../errors.js';

/** A transport-level endpoint. `host` is an IP literal (v4 or v6) or, for the simulated network, any label. */
export interface Address {
  /** IP literal without brackets (or a simulated-network label). */
  host: string;
  /** UDP or TCP port, 0 to 65535. */
  port: number;
}

/** `host:port`, with brackets around IPv6 hosts. */
export function formatAddress(address: Address): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** Parses `host:port` or `[v6]:port`; throws a typed error naming `argument` when malformed. */
export function parseAddress(text: string, argument = 'address'): Address {
  if (typeof text !== 'string') throw invalidArgument(argument, 'expected a "host:port" string');
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!match) throw invalidArgument(argument, `"${text}" is not "host:port" or "[v6]:port"`);
  const port = Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalidArgument(argument, `port out of range in "${text}"`);
  let host = match[1];
  if (host === 'localhost') host = '127.0.0.1';
  return { host, port };
}

/** Normalises an Address argument (object or text). */
export function toAddress(value: Address | string, argument = 'address'): Address {
  if (typeof value === 'string') return parseAddress(value, argument);
  if (!value || typeof value.host !== 'string' || !Number.isInteger(value.port) || value.port < 0 || value.port > 65535) {
    throw invalidArgument(argument, 'expected { host: string, port: 0..65535 } or "host:port"');
  }
  return { host: value.host === 'localhost' ? '127.0.0.1' : value.host, port: value.port };
}

/** True for IPv4 or IPv6 literals. */
export function isIpLiteral(host: string): boolean {
  return isIP(host) !== 0;
}

/** Address equality (string compare of the normalised form). */
export function sameAddress(a: Address, b: Address): boolean {
  return a.port === b.port && a.host === b.host;
}

/** True for loopback hosts: 127.0.0.0/8, `::1` and IPv4-mapped 127.x. */
export function isLoopbackHost(host: string): boolean {
  return host.startsWith('127.') || host === '::1' || host.toLowerCase().startsWith('::ffff:127.');
}

/**
 * The key a per-source budget counts a datagram under: the source IP, except on loopback,
 * where every node of the machine shares one IP and a datagram cannot come from outside the
 * machine (Linux drops 127/8 and ::1 sources arriving on other interfaces unless
 * `route_localnet` is set; a local forwarder such as `socat` can still make remote clients look
 * local, and then buys them only separate per-port buckets; key agreements stay under the global cap). There the
 * budget counts each port on its own, so a hundred local nodes joining at once are not
 * throttled as one source, while one port flooding is still held to the budget.
 */
export function budgetSource(from: Address): string {
  return isLoopbackHost(from.host) ? formatAddress(from) : from.host;
}
