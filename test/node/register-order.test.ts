import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MccNode } from '../../src/index.js';

test('register(): the service accepts streams before its record is published, and a failed register leaves no entry', async (t) => {
  const seed = await MccNode.create({ host: '127.0.0.1' });
  await seed.start();
  const provider = await MccNode.create({ host: '127.0.0.1', bootstrap: [seed.address] });
  await provider.start();
  t.after(async () => {
    await provider.stop();
    await seed.stop();
  });
  const publishing = provider.register('early', { handler: (stream) => stream.end('early answer') });
  // Still synchronous: nothing is published yet, but the service table already knows where streams go.
  assert.deepEqual(
    provider.registrations().map((service) => service.state),
    ['publishing'],
  );
  assert.ok(provider.services.has('early'), 'the service is in the table before the first publish');
  await publishing;
  const stream = await seed.connect('early');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'early answer');

  await assert.rejects(provider.register('early', { port: 1 }), (error: { code: string }) => error.code === 'ERR_INVALID_ARGUMENT');
  assert.equal((provider.services.get('early') as { kind: string }).kind, 'handler', 'a second register of the name changes nothing');

  const controller = new AbortController();
  controller.abort();
  await assert.rejects(provider.register('aborted', { port: 8080, signal: controller.signal }));
  assert.equal(provider.services.has('aborted'), false, 'an aborted register leaves no service entry');
});
