/**
 * The REST adapter (`mcc-mesh/rest`): every function of a node over HTTP, for applications
 * and providers not written in Node, plus a live dashboard for people.
 *
 * Mount it on a `node:http` server (`http.createServer(createRestHandler(node))`), or as
 * middleware under a prefix (`app.use('/mcc', createRestHandler(node))` in Express,
 * `fastify.use('/mcc', …)` with `@fastify/middie`). Routes are versioned under `/v1`;
 * `GET /openapi.json` describes them (generated from the same table the handler dispatches
 * on), `GET /metrics` exports counters for Prometheus, and `GET /` serves the dashboard to
 * browsers and the node info to everything else. Errors are RFC 9457 problem documents.
 *
 * A local HTTP API is reachable from every page the user's browser opens, so requests whose
 * `Host` is not the address the server was reached at (DNS rebinding) or that carry another
 * site's `Origin` are refused; set `token` to require `Authorization: Bearer`.
 *
 * @packageDocumentation
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import type { MccNode } from '../node/node.js';
import { invalidArgument } from '../errors.js';
import { HttpProblem, sendProblem } from './problem.js';
import { Router, routePath } from './router.js';
import { checkHost, checkOrigin, checkReadOnly, checkToken, type AccessOptions } from './security.js';
import { nodeRoutes } from './routes-node.js';
import { serviceRoutes } from './routes-services.js';
import { openApiDocument } from './openapi.js';
import { nodeInfo } from './json.js';
import { ref } from './schemas.js';
import { dashboardCsp, dashboardPage } from './dashboard.js';
import type { HandlerState, JsonReply, Route, RouteContext } from './route.js';

export type * from './types.js';
export type { AccessOptions } from './security.js';
export type { Route, RouteContext, HandlerState, JsonReply, ResponseSpec, Schema } from './route.js';
export { problemType } from './problem.js';

/** A `node:http` request listener; also usable as `app.use('/mcc', handler)` middleware. */
export type RestHandler = (request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void) => void;

/** Options of {@link createRestHandler}. */
export type RestHandlerOptions = AccessOptions;

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** The routes every handler has besides the node and service routes: the dashboard and the API description. */
function rootRoutes(routes: () => readonly Route[], options: RestHandlerOptions): Route[] {
  return [
    {
      method: 'GET',
      path: '/',
      operationId: 'root',
      summary: 'The dashboard page for browsers (Accept: text/html); the node info as JSON for everything else',
      tag: 'node',
      responses: { 200: { description: 'the node info (or the dashboard as text/html)', schema: ref('NodeInfo') } },
      handle: ({ node, request, response }) => {
        if (!/\btext\/html\b/.test(request.headers.accept ?? '')) return { status: 200, body: nodeInfo(node) };
        const page = dashboardPage();
        response.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-length': Buffer.byteLength(page),
          'content-security-policy': dashboardCsp(),
          'x-frame-options': 'DENY',
          'referrer-policy': 'no-referrer',
          'cache-control': 'no-store',
        });
        response.end(page);
        return undefined;
      },
    },
    {
      method: 'GET',
      path: '/openapi.json',
      operationId: 'openapi',
      summary: 'This API as an OpenAPI 3.1 document',
      tag: 'node',
      public: true,
      responses: { 200: { description: 'the OpenAPI document', schema: { type: 'object' } } },
      handle: ({ request }) => {
        const serverUrl = mountPrefix(request) || '/';
        return { status: 200, body: openApiDocument(routes(), { version: packageVersion(), serverUrl, token: options.token !== undefined }) };
      },
    },
  ];
}

/** Where the handler is mounted: Express and middie strip the prefix from `url` and keep `originalUrl`. */
function mountPrefix(request: IncomingMessage): string {
  const original = (request as IncomingMessage & { originalUrl?: string }).originalUrl;
  const url = request.url ?? '/';
  if (typeof original !== 'string' || original === url) return '';
  const originalPath = routePath(original);
  const path = routePath(url);
  return originalPath.endsWith(path) ? originalPath.slice(0, originalPath.length - (path === '/' ? 0 : path.length)).replace(/\/$/, '') : '';
}

/** The route table of a handler (for tests and tools that generate clients). */
export function restRoutes(options: RestHandlerOptions = {}): readonly Route[] {
  const table: Route[] = [];
  table.push(...rootRoutes(() => table, options), ...nodeRoutes, ...serviceRoutes);
  return table;
}

/**
 * Builds the HTTP handler for `node`.
 * @param options `token` (require a bearer token), `readOnly` (GET only), `allowedHosts` (extra Host names).
 */
export function createRestHandler(node: MccNode, options: RestHandlerOptions = {}): RestHandler {
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token.length < 8)) {
    throw invalidArgument('token', 'expected a string of at least 8 characters');
  }
  const router = new Router(restRoutes(options));
  const shared: HandlerState = { eventStreams: 0 };
  return (request, response, next) => {
    let match;
    let url: URL;
    try {
      url = requestUrl(request.url ?? '/');
      match = router.match(request.method ?? 'GET', routePath(url.pathname));
    } catch (error) {
      return sendProblem(response, error);
    }
    if (match === undefined) {
      // Mounted as middleware: the rest of the application answers what we do not know.
      if (next) return next();
      return sendProblem(response, new HttpProblem('ERR_ROUTE_NOT_FOUND', `no route for ${String(request.method).slice(0, 20)} ${url.pathname.slice(0, 200)}`));
    }
    if (!('route' in match)) {
      return sendProblem(
        response,
        new HttpProblem('ERR_METHOD_NOT_ALLOWED', `${String(request.method).slice(0, 20)} is not allowed here`, undefined, { allow: match.allowed.join(', ') }),
      );
    }
    const { route, params } = match;
    const controller = new AbortController();
    response.once('close', () => controller.abort());
    const context: RouteContext = { node, request, response, params, url, signal: controller.signal, shared, options };
    void run(route, context).catch((error: unknown) => {
      if (!(error instanceof HttpProblem) && !isMccError(error))
        node.logger.warn(`rest: ${request.method} ${url.pathname.slice(0, 200)} failed: ${(error as Error)?.stack ?? String(error)}`);
      sendProblem(response, error);
    });
  };
}

/**
 * The request target as a URL. Origin-form targets are appended to a fixed base rather than
 * resolved against it: `//host/x` resolved would change the host and drop a path segment.
 */
function requestUrl(target: string): URL {
  if (target.startsWith('/')) return new URL(`http://mcc.invalid${target}`);
  let absolute: URL;
  try {
    absolute = new URL(target); // absolute-form, as proxies get it
  } catch {
    throw new HttpProblem('ERR_INVALID_ARGUMENT', 'malformed request target', 'url');
  }
  return new URL(`http://mcc.invalid${absolute.pathname}${absolute.search}`);
}

async function run(route: Route, context: RouteContext): Promise<void> {
  const { request, response, url, options } = context;
  checkHost(request, options.allowedHosts);
  checkOrigin(request);
  if (!route.public) checkToken(request, url, options.token);
  checkReadOnly(request.method ?? 'GET', options.readOnly);
  const reply = await route.handle(context);
  if (reply) sendJson(response, reply);
}

function isMccError(error: unknown): boolean {
  return error instanceof Error && error.name === 'MccError';
}

function sendJson(response: ServerResponse, reply: JsonReply): void {
  if (response.headersSent || response.destroyed) return;
  if (reply.body === undefined) {
    response.writeHead(reply.status, { ...reply.headers, 'cache-control': 'no-store' });
    response.end();
    return;
  }
  const text = JSON.stringify(reply.body);
  response.writeHead(reply.status, {
    ...reply.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
}
