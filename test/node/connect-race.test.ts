import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MccNode, type MccError } from '../../src/index.js';

test('concurrent connects to one node for different services: a refused service does not fail the other', async (t) => {
  const provider = await MccNode.create({ host: '127.0.0.1' });
  await provider.start();
  const client = await MccNode.create({ host: '127.0.0.1', bootstrap: [provider.address] });
  await client.start();
  t.after(async () => {
    await client.stop();
    await provider.stop();
  });
  await provider.register('real', { handler: (stream) => stream.end('real answer') });
  // Both start before either handshake completes: no tunnel to the provider exists yet.
  const [missing, real] = await Promise.allSettled([
    client.connect(provider.idHex, { service: 'not-offered' }),
    client.connect(provider.idHex, { service: 'real' }),
  ]);
  assert.equal(missing.status, 'rejected');
  assert.equal((missing.reason as MccError).code, 'ERR_NOT_FOUND');
  assert.equal(real.status, 'fulfilled', `the offered service connects: ${(real as PromiseRejectedResult).reason?.message ?? ''}`);
  const chunks: Buffer[] = [];
  for await (const chunk of real.value) chunks.push(chunk as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'real answer');
});
