/**
 * Who may drive the node over HTTP. A local API is reachable from every web page the user
 * opens, so besides the optional bearer token two checks stop a browser from being used
 * against it: the `Host` header must name the address the server was reached at (DNS
 * rebinding puts an attacker's hostname there), and an `Origin` header, which browsers
 * add to cross-site requests, must be this server's own.
 */
import type { IncomingMessage } from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import { HttpProblem } from './problem.js';

/** Security options of the REST handler. */
export interface AccessOptions {
  /** When set, every route but `/openapi.json` needs `Authorization: Bearer <token>` (or `?access_token=` on GET). */
  token?: string | undefined;
  /** Refuse every method but GET and HEAD. */
  readOnly?: boolean | undefined;
  /**
   * Extra `Host` values to accept (`name` or `name:port`), for a handler mounted in an
   * application served under a real hostname. Loopback names and the address the request
   * arrived at are always accepted.
   */
  allowedHosts?: readonly string[] | undefined;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** The host part of a Host header (`[v6]` keeps its brackets), lower-cased; undefined when malformed. */
function hostName(header: string): { name: string; port: string | undefined } | undefined {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(header.trim());
  return match ? { name: match[1].toLowerCase(), port: match[2] } : undefined;
}

function localName(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  return plain.includes(':') ? `[${plain.toLowerCase()}]` : plain;
}

/** Refuses a request whose Host is not this server's address (DNS rebinding). */
export function checkHost(request: IncomingMessage, allowedHosts: readonly string[] = []): void {
  const header = request.headers.host;
  // HTTP/1.0 clients may omit Host; browsers never do, and the rebinding attack needs one.
  if (header === undefined) return;
  const parsed = hostName(header);
  if (!parsed) throw new HttpProblem('ERR_FORBIDDEN', 'malformed Host header');
  const local = localName(request.socket.localAddress);
  const localIsLoopback = local !== undefined && (local.startsWith('127.') || local === '[::1]');
  if (parsed.name === local) return;
  if (localIsLoopback && LOOPBACK_NAMES.has(parsed.name)) return;
  for (const allowed of allowedHosts) {
    const entry = allowed.toLowerCase();
    if (entry === parsed.name || entry === `${parsed.name}:${parsed.port ?? ''}`) return;
  }
  throw new HttpProblem('ERR_FORBIDDEN', `Host "${header.slice(0, 100)}" is not this server's address (allow it with the allowedHosts option)`);
}

/** Refuses cross-site requests: an Origin that is not this server's, or a browser's cross-site fetch metadata. */
export function checkOrigin(request: IncomingMessage): void {
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      throw new HttpProblem('ERR_FORBIDDEN', 'malformed Origin header');
    }
    if (originHost !== (request.headers.host ?? '').toLowerCase())
      throw new HttpProblem('ERR_FORBIDDEN', `cross-site request from ${origin.slice(0, 100)} refused`);
  } else if (origin === 'null') {
    throw new HttpProblem('ERR_FORBIDDEN', 'requests from opaque origins (sandboxed frames, file: pages) are refused');
  }
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') throw new HttpProblem('ERR_FORBIDDEN', `a ${site} browser request is refused`);
}

/** Compares bearer tokens in constant time (hashing first makes the lengths equal). */
function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Refuses a request without the token (when one is configured). */
export function checkToken(request: IncomingMessage, url: URL, token: string | undefined): void {
  if (token === undefined) return;
  const header = request.headers.authorization;
  let given: string | undefined;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    given = match?.[1];
  } else if (request.method === 'GET' || request.method === 'HEAD') {
    // Browsers cannot put a header on a typed-in URL; the dashboard link carries it here (RFC 6750 §2.3).
    given = url.searchParams.get('access_token') ?? undefined;
  }
  if (given === undefined || !sameToken(given, token)) {
    throw new HttpProblem('ERR_UNAUTHORIZED', given === undefined ? 'this API needs "Authorization: Bearer <token>"' : 'wrong token', undefined, {
      'www-authenticate': 'Bearer realm="mcc"',
    });
  }
}

/** Refuses writes on a read-only handler. */
export function checkReadOnly(method: string, readOnly: boolean | undefined): void {
  if (readOnly && method !== 'GET' && method !== 'HEAD') throw new HttpProblem('ERR_FORBIDDEN', `${method} refused: this API is read-only`);
}
