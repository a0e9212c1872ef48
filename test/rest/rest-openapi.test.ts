import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import { call, plainNode, restNode } from './rest-helpers.js';
import { restRoutes } from '../../src/rest/index.js';

/** A concrete path for a template, with harmless parameter values. */
function concrete(path: string): string {
  return path.replace('{name}', 'openapi-probe').replace('{port}', '9').replace('{key}', '00'.repeat(32));
}

test('GET /openapi.json is a valid OpenAPI 3.1 document listing every route of the table, and every route answers', async (t) => {
  const seed = await plainNode(t);
  const { base } = await restNode(t, { bootstrap: seed });
  const answer = await call(base, 'GET', '/openapi.json');
  assert.equal(answer.status, 200);
  const document = answer.body;
  assert.equal(document.openapi, '3.1.0');

  const validator = new Validator();
  const result = await validator.validate(document);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));

  const routes = restRoutes();
  const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
  );
  assert.deepEqual(documented.sort(), routes.map((route) => `${route.method} ${route.path}`).sort(), 'the document and the table list the same routes');
  const operationIds = routes.map((route) => route.operationId);
  assert.equal(new Set(operationIds).size, operationIds.length, 'operation IDs are unique');

  for (const route of routes) {
    const operation = document.paths[route.path][route.method.toLowerCase()];
    assert.equal(operation.operationId, route.operationId);
    // Every $ref resolves.
    for (const match of JSON.stringify(operation).matchAll(/"#\/components\/schemas\/(\w+)"/g))
      assert.ok(document.components.schemas[match[1]], `${match[1]} is defined`);
    const streams = route.responses[200]?.contentType === 'text/event-stream';
    if (streams) {
      const controller = new AbortController();
      const response = await fetch(`${base}${concrete(route.path)}`, { signal: controller.signal });
      assert.equal(response.status, 200, `${route.method} ${route.path}`);
      assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
      controller.abort();
      continue;
    }
    const body = route.method === 'POST' ? {} : undefined;
    const reply = await call(base, route.method, concrete(route.path), body);
    assert.notEqual(reply.body?.code, 'ERR_ROUTE_NOT_FOUND', `${route.method} ${route.path} is routed`);
    assert.notEqual(reply.status, 405, `${route.method} ${route.path} is routed`);
    const documentedStatuses = Object.keys(operation.responses).map(Number);
    assert.ok(documentedStatuses.includes(reply.status), `${route.method} ${route.path} answered ${reply.status}, documented ${documentedStatuses.join(', ')}`);
  }
});

test('the OpenAPI document names the mount prefix as its server when mounted under one', async (t) => {
  const express = (await import('express')).default;
  const { createRestHandler } = await import('../../src/rest/index.js');
  const node = await plainNode(t);
  const app = express();
  app.use('/mcc', createRestHandler(node));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const document = (await call(base, 'GET', '/mcc/openapi.json')).body;
  assert.deepEqual(document.servers, [{ url: '/mcc' }]);
});

test('real answers match the schemas the OpenAPI document gives for them', async (t) => {
  const { Ajv2020 } = await import('ajv/dist/2020.js');
  const seed = await plainNode(t);
  const provider = await restNode(t, { bootstrap: seed });
  const client = await restNode(t, { bootstrap: seed });
  const document = (await call(client.base, 'GET', '/openapi.json')).body;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('uri', true); // problem types are URNs; the document says uri
  ajv.addSchema({ $id: 'mcc', components: document.components }, 'mcc');
  const check = (schema: string, value: unknown, what: string): void => {
    const validate = ajv.getSchema(`mcc#/components/schemas/${schema}`)!;
    assert.ok(validate(value), `${what}: ${JSON.stringify(validate.errors)}`);
  };
  await provider.node.register('schema-check', { handler: (stream) => stream.end(), metadata: { tier: 1, tags: ['a'] } });
  await call(client.base, 'POST', '/v1/forwards', { name: 'schema-check', port: 0 });
  const stream = await client.node.connect('schema-check');
  stream.on('error', () => {}); // destroyed with ERR_STREAM when the nodes stop
  stream.resume();
  stream.end();
  check('Service', (await call(provider.base, 'GET', '/v1/services')).body.services[0], 'GET /v1/services');
  check('NodeInfo', (await call(client.base, 'GET', '/v1/node')).body, 'GET /v1/node');
  check('Peer', (await call(client.base, 'GET', '/v1/peers')).body.peers[0], 'GET /v1/peers');
  check('ProvidersPage', (await call(client.base, 'GET', '/v1/services/schema-check/providers')).body, 'GET providers');
  check('Forward', (await call(client.base, 'GET', '/v1/forwards')).body.forwards[0], 'GET /v1/forwards');
  check('State', (await call(client.base, 'GET', '/v1/state')).body, 'GET /v1/state');
  check('PingResult', (await call(client.base, 'POST', '/v1/ping', { address: `127.0.0.1:${seed.address.port}` })).body, 'POST /v1/ping');
  const put = (await call(client.base, 'POST', '/v1/dht', { value: 'aGVsbG8=', mutable: true })).body;
  check('DhtPutResult', put, 'POST /v1/dht');
  check('DhtValue', (await call(provider.base, 'GET', `/v1/dht/${put.key}`)).body, 'GET /v1/dht/{key}');
  check('Problem', (await call(client.base, 'POST', '/v1/services', {})).body, 'a problem');
});
