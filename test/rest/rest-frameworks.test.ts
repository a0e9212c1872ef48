import { test } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import Fastify from 'fastify';
import middie from '@fastify/middie';
import { call, plainNode } from './rest-helpers.js';
import { createRestHandler } from '../../src/rest/index.js';

test('mounted under /mcc in Express: routes answer relative to the prefix, the app keeps its own routes and 404s', async (t) => {
  const node = await plainNode(t);
  const app = express();
  app.get('/health', (_request, response) => void response.send('app ok'));
  app.use('/mcc', createRestHandler(node));
  app.use((_request, response) => void response.status(404).send('app 404'));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  assert.equal((await call(base, 'GET', '/mcc/v1/node')).body.id, node.idHex);
  const registered = await call(base, 'POST', '/mcc/v1/services', { name: 'express-web', port: 8080 });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  assert.deepEqual(
    (await call(base, 'GET', '/mcc/v1/services')).body.services.map((service: { name: string }) => service.name),
    ['express-web'],
  );
  assert.equal((await call(base, 'GET', '/mcc/v1/services/express-web/providers')).body.providers[0].id, node.idHex);
  assert.equal((await call(base, 'PUT', '/mcc/v1/node')).status, 405);
  assert.equal((await call(base, 'GET', '/mcc/unknown')).body, 'app 404', 'unknown paths go on to the app');
  assert.equal((await call(base, 'GET', '/health')).body, 'app ok');
  const page = await fetch(`${base}/mcc/`, { headers: { accept: 'text/html' } });
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(await page.text(), /<html/i);
});

test('mounted under /mcc in Fastify (through @fastify/middie): routes, bodies and fallthrough', async (t) => {
  const node = await plainNode(t);
  const app = Fastify();
  await app.register(middie);
  app.use('/mcc', createRestHandler(node));
  app.get('/health', async () => 'app ok');
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.after(() => app.close());
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  assert.equal((await call(base, 'GET', '/mcc/v1/node')).body.id, node.idHex);
  const registered = await call(base, 'POST', '/mcc/v1/services', { name: 'fastify-web', port: 8080, metadata: { via: 'fastify' } });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  assert.deepEqual(
    node.registrations().map((service) => service.metadata),
    [{ via: 'fastify' }],
  );
  const bad = await call(base, 'POST', '/mcc/v1/services', { name: 'x', port: 'eighty' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.field, 'port');
  assert.equal((await call(base, 'DELETE', '/mcc/v1/services/fastify-web')).status, 204);
  assert.equal((await call(base, 'GET', '/health')).body, 'app ok');
  assert.equal((await call(base, 'GET', '/mcc/unknown')).status, 404, 'unknown paths go on to Fastify, which 404s');
  assert.deepEqual((await call(base, 'GET', '/mcc/openapi.json')).body.servers, [{ url: '/mcc' }]);
});
