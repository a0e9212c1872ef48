/** Routes about the node itself: info, peers, live state, ping, the DHT, metrics. */
import { formatAddress } from '../util/address.js';
import { bytesToHex } from '../util/bytes.js';
import { HttpProblem } from './problem.js';
import { base64, hex, integer, onlyFields, optionalBoolean, optionalInteger, readJsonBody, requiredString } from './body.js';
import { nodeInfo, peerJson, stateJson } from './json.js';
import { metricsText } from './metrics.js';
import { ref } from './schemas.js';
import { openEventStream } from './sse.js';
import type { Route } from './route.js';
import type { DhtGetJson, DhtPutJson, PingJson } from './types.js';

/** Interval of `state` events on `/v1/events`, ms. */
export const STATE_INTERVAL_MS = 1000;
/** Most event streams one handler keeps open (each costs a timer or a watch). */
export const MAX_EVENT_STREAMS = 64;

const problem = { description: 'problem details', schema: ref('Problem'), contentType: 'application/problem+json' };

/** Claims one event-stream slot; throws 429 when all are taken. */
export function claimEventStream(shared: { eventStreams: number }, signal: AbortSignal): void {
  if (shared.eventStreams >= MAX_EVENT_STREAMS) throw new HttpProblem('ERR_LIMIT', `at most ${MAX_EVENT_STREAMS} event streams at once`);
  shared.eventStreams++;
  signal.addEventListener('abort', () => shared.eventStreams--, { once: true });
}

export const nodeRoutes: Route[] = [
  {
    method: 'GET',
    path: '/v1/node',
    operationId: 'getNode',
    summary: 'Node ID, addresses, NAT status, relays and counters',
    tag: 'node',
    responses: { 200: { description: 'the node', schema: ref('NodeInfo') } },
    handle: ({ node }) => ({ status: 200, body: nodeInfo(node) }),
  },
  {
    method: 'GET',
    path: '/v1/peers',
    operationId: 'listPeers',
    summary: 'Peers this node exchanged authenticated messages with',
    tag: 'node',
    responses: { 200: { description: 'peers', schema: { type: 'object', properties: { peers: { type: 'array', items: ref('Peer') } }, required: ['peers'] } } },
    handle: ({ node }) => ({ status: 200, body: { peers: node.peers().map(peerJson) } }),
  },
  {
    method: 'GET',
    path: '/v1/state',
    operationId: 'getState',
    summary: 'Everything the dashboard shows: node, peers, services, lookups, forwards, tunnels',
    tag: 'node',
    responses: { 200: { description: 'the state', schema: ref('State') } },
    handle: ({ node }) => ({ status: 200, body: stateJson(node) }),
  },
  {
    method: 'GET',
    path: '/v1/events',
    operationId: 'streamState',
    summary: 'Server-Sent Events: a `state` event (the body of GET /v1/state) at once and then every second',
    tag: 'node',
    responses: { 200: { description: '`event: state` messages', contentType: 'text/event-stream', schema: ref('State') }, 429: problem },
    handle: ({ node, request, response, shared, signal }) => {
      claimEventStream(shared, signal);
      const stream = openEventStream(request, response);
      signal.addEventListener('abort', () => stream.close(), { once: true });
      stream.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
      const push = (): void => void stream.send('state', stateJson(node));
      const timer = setInterval(push, STATE_INTERVAL_MS);
      push();
      return undefined;
    },
  },
  {
    method: 'POST',
    path: '/v1/ping',
    operationId: 'ping',
    summary: 'Ping a node by address: its ID, the round trip, and how it sees us',
    tag: 'node',
    requestBody: ref('PingBody'),
    responses: { 200: { description: 'the answer', schema: ref('PingResult') }, 400: problem, 504: problem },
    handle: async ({ node, request, signal }) => {
      const body = await readJsonBody(request);
      onlyFields(body, ['address', 'timeoutMs']);
      const address = requiredString(body, 'address', 300);
      const timeoutMs = optionalInteger(body, 'timeoutMs', 1, 60_000);
      const pong = await node.ping(address, { signal, ...(timeoutMs !== undefined ? { timeoutMs } : {}) }).catch((error: unknown) => {
        throw renameArgument(error, 'target', 'address');
      });
      const answer: PingJson = { id: pong.id, rttMs: pong.rttMs, observed: pong.observed ? formatAddress(pong.observed) : null };
      return { status: 200, body: answer };
    },
  },
  {
    method: 'POST',
    path: '/v1/dht',
    operationId: 'dhtPut',
    summary: "Store a value: immutable (key = hash of the value) or mutable, signed with this node's key under a salt",
    tag: 'dht',
    requestBody: ref('DhtPutBody'),
    responses: { 200: { description: 'stored', schema: ref('DhtPutResult') }, 400: problem, 502: problem },
    handle: async ({ node, request, signal }) => {
      const body = await readJsonBody(request);
      onlyFields(body, ['value', 'mutable', 'salt', 'seq']);
      const value = base64(body['value'], 'value', 1000);
      const mutable = optionalBoolean(body, 'mutable') ?? false;
      if (!mutable && (body['salt'] !== undefined || body['seq'] !== undefined)) {
        throw new HttpProblem('ERR_INVALID_ARGUMENT', 'invalid "salt": "salt" and "seq" need "mutable": true', body['salt'] !== undefined ? 'salt' : 'seq');
      }
      const salt = body['salt'] === undefined ? undefined : base64(body['salt'], 'salt', 64);
      const seq = body['seq'] === undefined ? undefined : integer(body['seq'], 'seq', 0, Number.MAX_SAFE_INTEGER);
      const result = await node.dht.put(value, {
        signal,
        ...(mutable ? { keyPair: node.keyPair } : {}),
        ...(salt ? { salt } : {}),
        ...(seq !== undefined ? { seq } : {}),
      });
      const answer: DhtPutJson = { key: bytesToHex(result.key), seq: mutable ? result.record.seq : null, stored: result.stored };
      return { status: 200, body: answer };
    },
  },
  {
    method: 'GET',
    path: '/v1/dht/{key}',
    operationId: 'dhtGet',
    summary: 'Read a value by its 32-byte key (hex); signatures and hashes are checked',
    tag: 'dht',
    parameters: [
      { name: 'key', in: 'path', required: true, description: 'DHT key, 64 hex characters', schema: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' } },
    ],
    responses: { 200: { description: 'the value', schema: ref('DhtValue') }, 400: problem, 404: problem },
    handle: async ({ node, params, signal }) => {
      const key = hex(params['key'], 'key', 32);
      const result = await node.dht.get(key, { signal });
      if (!result) throw new HttpProblem('ERR_NOT_FOUND', `no value under ${params['key'].toLowerCase()}`, 'key');
      const mutable = result.record.author.length > 0;
      const answer: DhtGetJson = {
        key: bytesToHex(result.key),
        value: Buffer.from(result.value).toString('base64'),
        seq: mutable ? result.record.seq : null,
        publicKey: mutable ? bytesToHex(result.record.author) : null,
      };
      return { status: 200, body: answer };
    },
  },
  {
    method: 'GET',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Every counter of node.stats() in the Prometheus text format',
    tag: 'node',
    responses: { 200: { description: 'Prometheus text exposition format 0.0.4', contentType: 'text/plain', schema: { type: 'string' } } },
    handle: ({ node, response }) => {
      const text = metricsText(node);
      response.writeHead(200, {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
        'content-length': Buffer.byteLength(text),
        'cache-control': 'no-store',
      });
      response.end(text);
      return undefined;
    },
  },
];

/** An error about a node API argument, renamed to the REST field that carried it. */
export function renameArgument(error: unknown, from: string, to: string): unknown {
  if (error instanceof Error && 'code' in error && error.code === 'ERR_INVALID_ARGUMENT') {
    const details = (error as { details?: Record<string, unknown> }).details;
    if (details?.['argument'] === from) return new HttpProblem('ERR_INVALID_ARGUMENT', error.message.replace(`"${from}"`, `"${to}"`), to);
  }
  return error;
}
