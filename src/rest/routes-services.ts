/** Routes about services: this node's registrations, lookups, watch events and local forwards. */
import { MccError } from '../errors.js';
import { encodeServiceName } from '../discovery/service-name.js';
import type { ServiceMetadata } from '../discovery/provider-record.js';
import { HttpProblem } from './problem.js';
import { host, integer, onlyFields, optionalInteger, optionalVisibility, readJsonBody, requiredString } from './body.js';
import { forwardJson, providerJson, serviceJson } from './json.js';
import { ref } from './schemas.js';
import { openEventStream } from './sse.js';
import { claimEventStream } from './routes-node.js';
import type { Route, RouteContext } from './route.js';
import type { ProvidersPage } from './types.js';

/** Default and largest page of `GET /v1/services/{name}/providers`. */
export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;
/**
 * Polling interval of an SSE watch, ms, used only while no holder of the name's records
 * accepts a live subscription (the watch is live otherwise: changes are pushed, no polling).
 */
export const WATCH_INTERVAL_MS = 500;

const problem = { description: 'problem details', schema: ref('Problem'), contentType: 'application/problem+json' };
const nameParameter = { name: 'name', in: 'path' as const, required: true, description: 'service name', schema: { type: 'string', minLength: 1 } };

/** The `name` path parameter, checked as the node checks service names. */
function serviceName(context: RouteContext): string {
  return checkedName(context.params['name']);
}

/** A service name checked as the node checks it; a bad one is a 400 naming `name`. */
function checkedName(value: string): string {
  try {
    encodeServiceName(value);
  } catch (error) {
    throw new HttpProblem('ERR_INVALID_ARGUMENT', (error as Error).message, 'name');
  }
  return value;
}

export const serviceRoutes: Route[] = [
  {
    method: 'GET',
    path: '/v1/services',
    operationId: 'listServices',
    summary: "This node's registrations",
    tag: 'services',
    responses: {
      200: {
        description: 'registrations',
        schema: { type: 'object', properties: { services: { type: 'array', items: ref('Service') } }, required: ['services'] },
      },
    },
    handle: ({ node }) => ({ status: 200, body: { services: node.registrations().map(serviceJson) } }),
  },
  {
    method: 'POST',
    path: '/v1/services',
    operationId: 'registerService',
    summary:
      'Register this node as a provider of a TCP service (every incoming stream becomes one TCP connection to host:port); `visibility` restricts it to organisations and nodes (consortium mode)',
    tag: 'services',
    requestBody: ref('RegisterBody'),
    responses: { 201: { description: 'registered', schema: ref('Service') }, 400: problem, 409: problem },
    handle: async ({ node, request }) => {
      const body = await readJsonBody(request);
      onlyFields(body, ['name', 'host', 'port', 'metadata', 'ttl', 'visibility']);
      const name = checkedName(requiredString(body, 'name'));
      const serviceHost = body['host'] === undefined ? '127.0.0.1' : host(body['host'], 'host');
      const port = integer(body['port'], 'port', 1, 65535);
      const ttl = optionalInteger(body, 'ttl', 10_000, 86_400_000);
      const visibility = optionalVisibility(body, 'visibility');
      if (node.registrations().some((service) => service.name === name))
        throw new HttpProblem('ERR_CONFLICT', `"${name}" is already registered on this node`, 'name');
      // No abort signal: a client that leaves mid-request must not leave a half-made registration.
      await node.register(name, {
        host: serviceHost,
        port,
        ...(body['metadata'] !== undefined ? { metadata: body['metadata'] as ServiceMetadata } : {}),
        ...(ttl !== undefined ? { ttl } : {}),
        ...(visibility !== undefined ? { visibility } : {}),
      });
      const service = node.registrations().find((candidate) => candidate.name === name);
      if (!service) throw new MccError('ERR_STOPPED', 'the registration ended before it could be reported');
      return { status: 201, body: serviceJson(service), headers: { location: `services/${encodeURIComponent(name)}` } };
    },
  },
  {
    method: 'DELETE',
    path: '/v1/services/{name}',
    operationId: 'unregisterService',
    summary: "Withdraw this node's registration (a signed withdrawal: lookups stop returning it at once)",
    tag: 'services',
    parameters: [nameParameter],
    responses: { 204: { description: 'withdrawn' }, 400: problem, 404: problem },
    handle: async (context) => {
      const name = serviceName(context);
      if (!(await context.node.unregister(name))) throw new HttpProblem('ERR_NOT_FOUND', `"${name}" is not registered on this node`, 'name');
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    path: '/v1/services/{name}/providers',
    operationId: 'lookupProviders',
    summary: 'Every live provider of a service with its metadata (the lookup), in pages ordered by node ID',
    tag: 'services',
    parameters: [
      nameParameter,
      {
        name: 'limit',
        in: 'query',
        description: `page size, 1..${MAX_PAGE} (default ${DEFAULT_PAGE})`,
        schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE },
      },
      { name: 'cursor', in: 'query', description: 'nextCursor of the previous page', schema: { type: 'string' } },
      { name: 'fresh', in: 'query', description: 'bypass the lookup cache', schema: { type: 'boolean' } },
    ],
    responses: { 200: { description: 'a page of providers', schema: ref('ProvidersPage') }, 400: problem },
    handle: async (context) => {
      const name = serviceName(context);
      const query = context.url.searchParams;
      const limit = query.has('limit') ? integer(query.get('limit'), 'limit', 1, MAX_PAGE) : DEFAULT_PAGE;
      const cursor = query.get('cursor');
      if (cursor !== null && !/^[0-9a-f]{64}$/.test(cursor))
        throw new HttpProblem('ERR_INVALID_ARGUMENT', 'invalid "cursor": expected the nextCursor of a previous page', 'cursor');
      const fresh = query.get('fresh') === 'true' || query.get('fresh') === '1';
      const providers = (await context.node.lookup(name, { signal: context.signal, fresh })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const start = cursor === null ? 0 : providers.findIndex((provider) => provider.id > cursor);
      const page = start === -1 ? [] : providers.slice(start, start + limit);
      const more = start !== -1 && start + limit < providers.length;
      const answer: ProvidersPage = { name, providers: page.map(providerJson), nextCursor: more ? page[page.length - 1].id : null };
      return { status: 200, body: answer };
    },
  },
  {
    method: 'GET',
    path: '/v1/services/{name}/events',
    operationId: 'watchProviders',
    summary: `Server-Sent Events of providers coming and going: \`added\` for each current provider first, then added / updated / removed as the holders of the name's records push them (a lookup every ${WATCH_INTERVAL_MS} ms only while no holder accepts a subscription)`,
    tag: 'services',
    parameters: [nameParameter],
    responses: {
      200: { description: '`event: added|updated|removed` messages', contentType: 'text/event-stream', schema: ref('WatchEvent') },
      400: problem,
      429: problem,
    },
    handle: (context) => {
      const name = serviceName(context);
      claimEventStream(context.shared, context.signal);
      // Live: the node subscribes at the holders of the name's records; intervalMs is only the fallback's.
      const events = context.node.watch(name, { signal: context.signal, intervalMs: WATCH_INTERVAL_MS });
      const stream = openEventStream(context.request, context.response);
      stream.signal.addEventListener('abort', () => context.response.destroyed || context.response.end(), { once: true });
      void (async () => {
        try {
          for await (const event of events) stream.send(event.type, { type: event.type, provider: providerJson(event.provider) });
        } catch (error) {
          stream.send('error', { code: (error as MccError).code ?? 'ERR_INTERNAL', detail: (error as Error).message });
        } finally {
          stream.close();
        }
      })();
      return undefined;
    },
  },
  {
    method: 'GET',
    path: '/v1/forwards',
    operationId: 'listForwards',
    summary: 'Local port forwards',
    tag: 'forwards',
    responses: {
      200: { description: 'forwards', schema: { type: 'object', properties: { forwards: { type: 'array', items: ref('Forward') } }, required: ['forwards'] } },
    },
    handle: ({ node }) => ({ status: 200, body: { forwards: node.forwards().map(forwardJson) } }),
  },
  {
    method: 'POST',
    path: '/v1/forwards',
    operationId: 'openForward',
    summary: 'Listen on a local TCP port; every connection to it becomes one tunnel stream to a provider of the service',
    tag: 'forwards',
    requestBody: ref('ForwardBody'),
    responses: { 201: { description: 'listening', schema: ref('Forward') }, 400: problem, 409: problem },
    handle: async ({ node, request }) => {
      const body = await readJsonBody(request);
      onlyFields(body, ['name', 'port', 'host']);
      const name = checkedName(requiredString(body, 'name'));
      const port = integer(body['port'], 'port', 0, 65535);
      const listenHost = body['host'] === undefined ? '127.0.0.1' : host(body['host'], 'host');
      const forward = await node.forward(name, { port, host: listenHost }).catch((error: unknown) => {
        if (error instanceof MccError && error.code === 'ERR_TRANSPORT') throw new HttpProblem('ERR_CONFLICT', error.message, 'port');
        throw error;
      });
      const info = node.forwards().find((candidate) => candidate.address.port === forward.address.port);
      const answer = forwardJson(info ?? { name, address: forward.address, connections: 0, failed: 0 });
      return { status: 201, body: answer, headers: { location: `forwards/${answer.port}` } };
    },
  },
  {
    method: 'DELETE',
    path: '/v1/forwards/{port}',
    operationId: 'closeForward',
    summary: 'Stop a local port forward and close its connections',
    tag: 'forwards',
    parameters: [{ name: 'port', in: 'path', required: true, description: 'the local port', schema: { type: 'integer', minimum: 1, maximum: 65535 } }],
    responses: { 204: { description: 'closed' }, 400: problem, 404: problem },
    handle: async ({ node, params }) => {
      const port = integer(params['port'], 'port', 1, 65535);
      if (!(await node.closeForward(port))) throw new HttpProblem('ERR_NOT_FOUND', `no forward listens on port ${port}`, 'port');
      return { status: 204 };
    },
  },
];
