import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { mulberry32 } from '../../src/util/random.js';
import { call, plainNode, restNode } from './rest-helpers.js';

const METHODS = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND'];
const PATHS = [
  '/',
  '/v1',
  '/v1/',
  '/v1/node',
  '/v1/peers',
  '/v1/state',
  '/v1/services',
  '/v1/services/{s}',
  '/v1/services/{s}/providers',
  '/v1/services/{s}/providers?limit={n}&cursor={s}',
  '/v1/forwards',
  '/v1/forwards/{n}',
  '/v1/dht',
  '/v1/dht/{s}',
  '/v1/ping',
  '/metrics',
  '/openapi.json',
  '/{s}',
  '/v1/services/{s}/{s}',
  '//{s}//v1/node',
  '/v1/node?{s}={s}',
  '/%',
  '/v1/services/%ff%fe',
];
const CONTENT_TYPES = [
  undefined,
  'application/json',
  'text/plain',
  'application/json; charset=utf-8',
  'multipart/form-data; boundary=x',
  'application/problem+json',
  '\u00ff',
];

test('fuzz: random methods, paths, headers and bodies never crash the node, never answer 500, never leave a registration half made', async (t) => {
  const seed = await plainNode(t);
  const { node, base } = await restNode(t, { bootstrap: seed });
  const port = Number(new URL(base).port);
  const random = mulberry32(0x5eed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const junk = (length: number): string => Array.from({ length }, () => String.fromCharCode(Math.floor(random() * 0x250))).join('');
  const segment = (): string =>
    pick([encodeURIComponent(junk(1 + Math.floor(random() * 12))), 'fuzz', 'web', '0', '65536', '-1', 'ff'.repeat(32), '%00', '..', 'x'.repeat(300)]);
  const number = (): string => pick(['0', '1', '80', '65535', '65536', '-5', '1e3', 'NaN', '9'.repeat(30)]);
  const value = (depth: number): unknown => {
    const kind = Math.floor(random() * (depth > 3 ? 5 : 8));
    if (kind === 0) return null;
    if (kind === 1) return random() < 0.5;
    if (kind === 2) return pick([0, -1, 1.5, 80, 65535, 70000, 1e308, Number.MAX_SAFE_INTEGER + 2]);
    if (kind === 3) return junk(Math.floor(random() * 20));
    if (kind === 4) return pick(['web', 'fuzz', '127.0.0.1', 'localhost', '::1', 'aGk=', '127.0.0.1:1']);
    if (kind === 5) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
    const object: Record<string, unknown> = {};
    for (let i = Math.floor(random() * 5); i > 0; i--)
      object[
        pick(['name', 'port', 'host', 'metadata', 'ttl', 'value', 'mutable', 'salt', 'seq', 'address', 'timeoutMs', '__proto__', 'constructor', junk(3)])
      ] = value(depth + 1);
    return object;
  };
  const body = (): string | Buffer | undefined => {
    const kind = Math.floor(random() * 9);
    if (kind === 0) return undefined;
    if (kind >= 7)
      return JSON.stringify({
        name: pick(['web', 'fuzz', segment()]),
        port: pick([8080, 1, 65535]),
        metadata: value(1),
        ...(random() < 0.3 ? { ttl: 60_000 } : {}),
      });
    if (kind === 1) return Buffer.from(Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256)));
    if (kind === 2) return '['.repeat(5000) + ']'.repeat(5000);
    if (kind === 3) return JSON.stringify({ name: 'fuzz', port: 8080, metadata: JSON.parse('['.repeat(900) + ']'.repeat(900)) });
    return JSON.stringify(value(0));
  };

  const statuses = new Map<number, number>();
  const total = 1200;
  for (let i = 0; i < total; i++) {
    const method = random() < 0.75 ? pick(['GET', 'POST', 'POST', 'DELETE']) : pick(METHODS);
    const path = pick(PATHS).replace(/\{s\}/g, segment).replace(/\{n\}/g, number);
    const headers: Record<string, string> = {};
    const type = pick(CONTENT_TYPES);
    if (type !== undefined) headers['content-type'] = type;
    if (random() < 0.1) headers['accept'] = pick(['text/html', 'text/event-stream', '*/*', junk(5)]);
    if (random() < 0.05) headers['authorization'] = `Bearer ${junk(10)}`;
    if (random() < 0.05) headers['origin'] = pick(['null', 'http://evil.example', `http://127.0.0.1:${port}`, junk(4)]);
    if (random() < 0.05) headers['host'] = pick(['evil.example', `localhost:${port}`, '[::1', junk(6)]);
    if (random() < 0.05) headers['content-length'] = number();
    const payload = method === 'GET' || method === 'HEAD' ? undefined : body();
    const status = await send(port, method, path, headers, payload);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    assert.ok(status !== 500, `${method} ${path.slice(0, 80)} answered 500`);
  }
  console.log(`fuzz: ${total} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);

  // Every registration the fuzz made is whole: in the service table and published, and vice versa.
  const registered = node
    .registrations()
    .map((service) => service.name)
    .sort();
  assert.deepEqual(registered, [...node.services.keys()].sort(), 'the service table and the registrations agree');
  for (const service of node.registrations()) assert.ok(['published', 'retrying', 'publishing'].includes(service.state));
  // The node still works.
  assert.equal((await call(base, 'GET', '/v1/node')).body.running, true);
  assert.equal((await call(base, 'POST', '/v1/ping', { address: `127.0.0.1:${seed.address.port}` })).body.id, seed.idHex);
});

/** One raw request; resolves with the status (event streams are closed once their head arrives; a refused connection is status 0). */
function send(port: number, method: string, path: string, headers: Record<string, string>, body: string | Buffer | undefined): Promise<number> {
  return new Promise((resolve) => {
    let request;
    try {
      // A declared length the body does not fill leaves the server waiting: give up on those early.
      const timeout = headers['content-length'] !== undefined ? 300 : 10_000;
      request = httpRequest({ host: '127.0.0.1', port, method, path, headers, timeout, agent: false }, (response) => {
        if (/event-stream/.test(response.headers['content-type'] ?? '')) response.destroy();
        else response.resume();
        response.on('close', () => resolve(response.statusCode ?? 0));
      });
    } catch {
      return resolve(0); // the client library itself refused (e.g. an invalid header value)
    }
    request.on('error', (error) => {
      if (process.env['FUZZ_DEBUG']) console.log(method, path.slice(0, 60), error.message, JSON.stringify(headers));
      resolve(0);
    });
    request.on('timeout', () => request.destroy());
    if (body !== undefined && headers['content-length'] === undefined) request.end(body);
    else request.end();
  });
}
