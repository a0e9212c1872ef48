import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, createServer } from 'node:http';
import { connect } from 'node:net';
import { call, plainNode, restNode } from './rest-helpers.js';
import { MccNode } from '../../src/index.js';
import { createRestHandler } from '../../src/rest/index.js';

function assertProblem(answer: { status: number; headers: Headers; body: any }, status: number, code: string, field?: string): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(answer.body.status, status);
  assert.equal(answer.body.code, code);
  assert.equal(answer.body.type, `urn:mcc-mesh:problem:${code.replace(/^ERR_/, '').toLowerCase().replace(/_/g, '-')}`);
  assert.equal(typeof answer.body.title, 'string');
  assert.equal(typeof answer.body.detail, 'string');
  if (field !== undefined) {
    assert.equal(answer.body.field, field);
    if (status === 400) assert.match(answer.body.detail, new RegExp(`"${field}"`), 'the detail names the field');
  }
}

test('REST: each kind of bad input gets a problem+json 400 naming the field, and nothing half made', async (t) => {
  const { node, base } = await restNode(t);
  const cases: Array<[string, string, unknown, string]> = [
    ['POST', '/v1/services', { port: 80 }, 'name'],
    ['POST', '/v1/services', { name: '', port: 80 }, 'name'],
    ['POST', '/v1/services', { name: 'x'.repeat(300), port: 80 }, 'name'],
    ['POST', '/v1/services', { name: 'web', port: 0 }, 'port'],
    ['POST', '/v1/services', { name: 'web', port: 70000 }, 'port'],
    ['POST', '/v1/services', { name: 'web', port: '80x' }, 'port'],
    ['POST', '/v1/services', { name: 'web', port: 80, host: 'example.com' }, 'host'],
    ['POST', '/v1/services', { name: 'web', port: 80, ttl: 5 }, 'ttl'],
    ['POST', '/v1/services', { name: 'web', port: 80, metadata: { big: 'x'.repeat(600) } }, 'metadata'],
    ['POST', '/v1/services', { name: 'web', port: 80, colour: 'blue' }, 'colour'],
    ['POST', '/v1/services', [1, 2], 'body'],
    ['POST', '/v1/services', '{"name": "web", ', 'body'],
    ['POST', '/v1/forwards', { name: 'web', port: -1 }, 'port'],
    ['POST', '/v1/forwards', { name: 'web', port: 9000, host: 'not an ip' }, 'host'],
    ['POST', '/v1/dht', { value: 'not base64!' }, 'value'],
    ['POST', '/v1/dht', { value: Buffer.alloc(1001).toString('base64') }, 'value'],
    ['POST', '/v1/dht', { value: 'aGk=', salt: 'aGk=' }, 'salt'],
    ['POST', '/v1/dht', { value: 'aGk=', mutable: 'yes' }, 'mutable'],
    ['POST', '/v1/ping', { address: 'nowhere' }, 'address'],
    ['POST', '/v1/ping', { address: 'example.com:4000' }, 'address'],
    ['GET', '/v1/dht/abcd', undefined, 'key'],
    ['GET', '/v1/services/web/providers?limit=0', undefined, 'limit'],
    ['GET', '/v1/services/web/providers?cursor=zz', undefined, 'cursor'],
    ['GET', '/v1/services/%E0%A4%A/providers', undefined, 'name'],
    ['DELETE', '/v1/forwards/http', undefined, 'port'],
  ];
  for (const [method, path, body, field] of cases) {
    const answer = await call(base, method, path, body);
    assertProblem(answer, 400, 'ERR_INVALID_ARGUMENT', field);
  }
  assert.deepEqual(node.registrations(), [], 'no bad request left a registration');
  assert.deepEqual(node.forwards(), []);
  assert.equal(node.services.size, 0);

  assertProblem(
    await call(base, 'POST', '/v1/services', 'name=web', { 'content-type': 'application/x-www-form-urlencoded' }),
    415,
    'ERR_UNSUPPORTED_MEDIA_TYPE',
  );
  assertProblem(await call(base, 'DELETE', '/v1/services/none'), 404, 'ERR_NOT_FOUND', 'name');
  assertProblem(await call(base, 'DELETE', '/v1/forwards/9'), 404, 'ERR_NOT_FOUND', 'port');
  assertProblem(await call(base, 'GET', '/v1/nothing'), 404, 'ERR_ROUTE_NOT_FOUND');
  const wrongMethod = await call(base, 'PUT', '/v1/services');
  assertProblem(wrongMethod, 405, 'ERR_METHOD_NOT_ALLOWED');
  assert.equal(wrongMethod.headers.get('allow'), 'GET, HEAD, POST');
  assert.equal((await call(base, 'POST', '/v1/node')).headers.get('allow'), 'GET, HEAD');

  const first = await call(base, 'POST', '/v1/services', { name: 'dup', port: 8080 });
  assert.equal(first.status, 201);
  assertProblem(await call(base, 'POST', '/v1/services', { name: 'dup', port: 8081 }), 409, 'ERR_CONFLICT', 'name');
  assert.deepEqual(
    node.registrations().map((service) => service.target),
    [{ kind: 'tcp', host: '127.0.0.1', port: 8080 }],
    'the first registration is untouched',
  );

  const forward = await call(base, 'POST', '/v1/forwards', { name: 'dup', port: 0 });
  assertProblem(await call(base, 'POST', '/v1/forwards', { name: 'dup', port: forward.body.port }), 409, 'ERR_CONFLICT', 'port');
});

test('REST: bodies over 64 KiB are refused with 413 whether announced or streamed, and the node still answers', async (t) => {
  const { base } = await restNode(t);
  const big = JSON.stringify({ name: 'web', port: 80, metadata: 'x'.repeat(70_000) });
  assertProblem(await call(base, 'POST', '/v1/services', big), 413, 'ERR_PAYLOAD_TOO_LARGE');
  // Chunked, with no content-length: refused once 64 KiB arrived.
  const port = Number(new URL(base).port);
  const status = await new Promise<number>((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, method: 'POST', path: '/v1/services', headers: { 'content-type': 'application/json' } },
      (response) => {
        response.resume();
        resolve(response.statusCode!);
      },
    );
    request.on('error', reject);
    const chunk = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 8; i++) request.write(chunk);
    request.end();
  });
  assert.equal(status, 413);
  assert.equal((await call(base, 'GET', '/v1/node')).status, 200);
});

test('REST security: Host must be the server address, foreign Origin refused, token required, read-only refuses writes', async (t) => {
  const seed = await plainNode(t);
  const open = await restNode(t, { bootstrap: seed });
  const port = Number(new URL(open.base).port);
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'localhost']) {
    assert.equal((await rawGet(port, '/v1/node', { host })).status, 200, `Host ${host} accepted`);
  }
  for (const host of [`evil.example:${port}`, 'attacker.test', `10.0.0.1:${port}`]) {
    const refused = await rawGet(port, '/v1/node', { host });
    assert.equal(refused.status, 403, `Host ${host} refused (DNS rebinding)`);
    assert.equal(JSON.parse(refused.body).code, 'ERR_FORBIDDEN');
  }
  const crossSite = await call(open.base, 'POST', '/v1/services', { name: 'web', port: 80 }, { origin: 'https://evil.example' });
  assertProblem(crossSite, 403, 'ERR_FORBIDDEN');
  assertProblem(await call(open.base, 'GET', '/v1/node', undefined, { origin: 'null' }), 403, 'ERR_FORBIDDEN');
  assertProblem(await call(open.base, 'GET', '/v1/node', undefined, { 'sec-fetch-site': 'cross-site' }), 403, 'ERR_FORBIDDEN');
  assert.deepEqual(open.node.registrations(), [], 'the cross-site POST registered nothing');
  assert.equal((await call(open.base, 'GET', '/v1/node', undefined, { origin: open.base })).status, 200, 'same origin accepted');

  const token = 'correct-horse-battery-staple';
  const guarded = await restNode(t, { bootstrap: seed, rest: { token } });
  const noToken = await call(guarded.base, 'GET', '/v1/node');
  assertProblem(noToken, 401, 'ERR_UNAUTHORIZED');
  assert.match(noToken.headers.get('www-authenticate') ?? '', /^Bearer/);
  assertProblem(await call(guarded.base, 'GET', '/v1/node', undefined, { authorization: 'Bearer wrong-token-here' }), 401, 'ERR_UNAUTHORIZED');
  assertProblem(await call(guarded.base, 'GET', '/metrics'), 401, 'ERR_UNAUTHORIZED');
  assert.equal((await call(guarded.base, 'GET', '/v1/node', undefined, { authorization: `Bearer ${token}` })).status, 200);
  assert.equal((await call(guarded.base, 'GET', `/v1/node?access_token=${token}`)).status, 200, 'GET may carry the token in the query (the dashboard link)');
  assertProblem(await call(guarded.base, 'POST', `/v1/services?access_token=${token}`, { name: 'web', port: 80 }), 401, 'ERR_UNAUTHORIZED');
  const api = await call(guarded.base, 'GET', '/openapi.json');
  assert.equal(api.status, 200, '/openapi.json needs no token');
  assert.deepEqual(api.body.security, [{ bearer: [] }]);

  const readOnly = await restNode(t, { bootstrap: seed, rest: { readOnly: true } });
  assert.equal((await call(readOnly.base, 'GET', '/v1/services')).status, 200);
  assertProblem(await call(readOnly.base, 'POST', '/v1/services', { name: 'web', port: 80 }), 403, 'ERR_FORBIDDEN');
  assertProblem(await call(readOnly.base, 'DELETE', '/v1/services/web'), 403, 'ERR_FORBIDDEN');
  assert.deepEqual(readOnly.node.registrations(), []);

  assert.throws(() => createRestHandler(seed, { token: 'short' }), /token/);
});

test('REST: unknown routes go to next() when mounted as middleware; trailing slashes and long slash runs cost linear time', async (t) => {
  const node = await MccNode.create({ host: '127.0.0.1' });
  await node.start();
  t.after(() => node.stop());
  const handler = createRestHandler(node);
  let passedOn = 0;
  const server = createServer((request, response) =>
    handler(request, response, () => {
      passedOn++;
      response.end('the application answered');
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  assert.equal(await (await fetch(`${base}/app/unknown`)).text(), 'the application answered');
  assert.equal(passedOn, 1);
  assert.equal((await fetch(`${base}/v1/node///?x=1`)).status, 200);
  const started = performance.now();
  assert.equal(await (await fetch(`${base}/${'/'.repeat(16_000)}a`)).text(), 'the application answered');
  assert.ok(performance.now() - started < 5000);
});

/** A GET with a hand-written Host header (fetch will not send another host's name). */
function rawGet(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\n${Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('')}connection: close\r\n\r\n`,
      );
    });
    let text = '';
    socket.on('data', (chunk) => (text += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]);
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      resolve({ status, body: body.includes('\r\n') ? (body.split('\r\n')[1] ?? body) : body });
    });
  });
}
