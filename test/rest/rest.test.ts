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
