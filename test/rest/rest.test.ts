import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { MccNode } from '../../src/index.js';
import { createRestHandler } from '../../src/rest/index.js';

test('createRestHandler answers node info as JSON and 404s the rest', async (t) => {
  const node = await MccNode.create({ host: '127.0.0.1' });
  await node.start();
  const server = createServer(createRestHandler(node));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await node.stop();
  });
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const response = await fetch(`${base}/node`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /application\/json/);
  const info = (await response.json()) as { id: string; address: string; peers: number; running: boolean };
  assert.equal(info.id, node.idHex);
  assert.equal(info.address, `127.0.0.1:${node.address.port}`);
  assert.equal(info.peers, 0);
  assert.equal(info.running, true);
  const missing = await fetch(`${base}/nope`);
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'ERR_NOT_FOUND');
});

test('REST: 405 for other methods, trailing slashes and query strings ignored in linear time, next() when mounted as middleware', async (t) => {
  const node = await MccNode.create({ host: '127.0.0.1' });
  await node.start();
  const handler = createRestHandler(node);
  let passedOn = 0;
  const server = createServer((request, response) => {
    if (request.url?.startsWith('/app')) {
      return handler(request, response, () => {
        passedOn++;
        response.end('the application answered');
      });
    }
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await node.stop();
  });
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const post = await fetch(`${base}/node`, { method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
  assert.equal((await fetch(`${base}/node///?x=1`)).status, 200);
  const started = performance.now();
  const slashes = await fetch(`${base}/${'/'.repeat(16_000)}a`);
  assert.equal(slashes.status, 404);
  assert.ok(performance.now() - started < 5000);
  const mounted = await fetch(`${base}/app/unknown`);
  assert.equal(await mounted.text(), 'the application answered');
  assert.equal(passedOn, 1);
});
