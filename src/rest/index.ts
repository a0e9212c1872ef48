/**
 * The REST adapter (`mcc-mesh/rest`): exposes a node's functions over HTTP for
 * applications not written in Node. Mount it on any `node:http` server or as
 * connect/express middleware.
 *
 * Routes so far:
 * - `GET /node` (also `GET /`): node ID, bound address, peer count and counters, as JSON.
 * Everything else answers 404 with a JSON error.
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
  return (request, response) => {
    const path = (request.url ?? '/').split('?')[0]!.replace(/\/+$/, '') || '/';
    if (request.method === 'GET' && (path === '/' || path === '/node')) {
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
    sendJson(response, 404, { error: { code: 'ERR_NOT_FOUND', message: `no route for ${request.method} ${path}` } });
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
