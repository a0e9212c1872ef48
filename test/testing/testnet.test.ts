import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { createTestnet, VirtualClock, type Testnet } from '../../src/testing/index.js';

/** Writes `text` on `stream` and resolves with as many bytes echoed back (under the testnet's clock). */
function echo(testnet: Testnet, stream: Duplex, text: string): Promise<string> {
  return testnet.run(
    new Promise<string>((resolve, reject) => {
      let got = '';
      stream.on('data', (chunk: Buffer) => {
        got += chunk.toString();
        if (got.length >= text.length) resolve(got);
      });
      stream.once('error', reject);
      stream.write(text);
    }),
    30_000,
  );
}

test('createTestnet: a 20-node mesh on a virtual clock discovers and connects like a real one', async (t) => {
  const started = performance.now();
  const testnet = await createTestnet({ size: 20, latency: 25 });
  t.after(() => testnet.stop());
  assert.ok(testnet.clock instanceof VirtualClock);
  assert.equal(testnet.nodes.length, 20);
  assert.equal(testnet.bootstrap.length, 1);
  const [provider, , , client] = testnet.nodes as [(typeof testnet.nodes)[0], ...typeof testnet.nodes];
  await testnet.run(provider.register('echo', { handler: (stream) => stream.pipe(stream), metadata: { zone: 'a' } }));
  const providers = await testnet.run(client.lookup('echo'));
  assert.deepEqual(
    providers.map((p) => [p.id, p.metadata]),
    [[provider.idHex, { zone: 'a' }]],
  );
  const stream = await testnet.run(client.connect('echo'));
  assert.equal(await echo(testnet, stream, 'hello through the testnet'), 'hello through the testnet');
  stream.destroy();
  console.log(`20-node testnet: ${Math.round(performance.now() - started)} ms of real time, ${Math.round(testnet.clock.now())} ms of virtual time`);
});

test('createTestnet: nodes behind symmetric and port-restricted NATs reach each other (punched or relayed)', async (t) => {
  const testnet = await createTestnet({ size: 2, nat: ['symmetric', 'port-restricted'], seed: 7 });
  t.after(() => testnet.stop());
  assert.equal(testnet.bootstrap.length, 4, 'four public nodes observe NATs and relay');
  const [provider, client] = testnet.nodes;
  assert.equal(provider.stats().nat.mapping, 'random');
  assert.equal(client.stats().nat.mapping, 'consistent');
  await testnet.run(provider.register('echo', { handler: (stream) => stream.pipe(stream) }));
  const stream = await testnet.run(client.connect('echo'));
  assert.equal(await echo(testnet, stream, 'across two NATs'), 'across two NATs');
  stream.destroy();
});

test('createTestnet: real time works without run(), and bad options are refused', async (t) => {
  const testnet = await createTestnet({ size: 2, virtualTime: false, latency: 1 });
  t.after(() => testnet.stop());
  const [a, b] = testnet.nodes;
  await a.register('plain', { handler: (stream) => stream.end('ok') });
  assert.equal((await b.lookup('plain'))[0].id, a.idHex);
  await assert.rejects(createTestnet({ size: -1 }), /size/);
  await assert.rejects(createTestnet({ nat: 'carrier-grade' as never }), /nat/);
});
