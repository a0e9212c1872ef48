/**
 * The REST adapter (`mcc-mesh/rest`): exposes a node's functions over HTTP for
 * applications not written in Node. Mount it on any `node:http` server or as
 * connect/express middleware.
 *
 * Routes so far:
 * - `GET /node` (also `GET /`): node ID, bound address, peer count and counters, as JSON.
 * Other methods on it answer 405. Unknown paths answer 404 with a JSON error, or, when the
 * handler is mounted as middleware (called with `next`), pass on to the next handler.
 *
 * @packageDocumentation
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MccNode } from '../node.js';
import { formatAddress } from '../util/address.js';

/** A `node:http` request listener; also usable as `app.use('/mcc', handler)` middleware. */
export type RestHandler = (request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void) => void;

/** The JSON answer of `GET /node`. */
export interface NodeInfo {
  id: string;
  address: string | null;
  running: boolean;
  peers: number;
  stats: ReturnType<MccNode['stats']>;
}

/** Builds the HTTP handler for `node`. */
export function createRestHandler(node: MccNode): RestHandler {
  return (request, response, next) => {
    const path = routePath(request.url ?? '/');
    if (path === '/' || path === '/node') {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.setHeader('allow', 'GET, HEAD');
        return sendJson(response, 405, { error: { code: 'ERR_INVALID_ARGUMENT', message: `${request.method} is not allowed on ${path}` } });
      }
      const stats = node.stats();
      const info: NodeInfo = {
        id: node.idHex,
        address: node.running ? formatAddress(node.address) : null,
        running: node.running,
        peers: stats.peers,
        stats,
      };
      return sendJson(response, 200, info);
    }
    // Mounted as middleware: let the rest of the application answer what we do not know.
    if (next) return next();
    sendJson(response, 404, { error: { code: 'ERR_NOT_FOUND', message: `no route for ${request.method} ${path.slice(0, 200)}` } });
  };
}

/** The path without query and trailing slashes (a loop, not a regex: long runs of slashes cost linear time). */
function routePath(url: string): string {
  const query = url.indexOf('?');
  let path = query === -1 ? url : url.slice(0, query);
  let end = path.length;
  while (end > 1 && path.charCodeAt(end - 1) === 0x2f) end--;
  path = path.slice(0, end);
  return path === '' ? '/' : path;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
