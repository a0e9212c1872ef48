/**
 * Testing your own service on a simulated mesh with `mcc-mesh/testing`: a tiny key-value
 * service (one line per request: `SET key value`, `GET key`) runs on a provider behind a
 * NAT; clients elsewhere in a 20-node mesh look it up and talk to it through tunnels.
 * The nodes are real `MccNode`s on a simulated network and a virtual clock: the whole
 * file runs in seconds, the same way every time for a given seed.
 *
 *   node --import tsx --test examples/testnet.ts
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createInterface } from 'node:readline';
import type { Duplex } from 'node:stream';
import type { StreamHandler } from 'mcc-mesh';
import { createTestnet, type Testnet } from 'mcc-mesh/testing';

// ---- the application under test: a key-value service and its client ----

/** Serves `SET key value` (answers `OK`) and `GET key` (answers the value, or `NOT_FOUND`), one per line. */
function keyValueService(store = new Map<string, string>()): StreamHandler {
  return (stream) => {
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', (line) => {
      const [command, key = '', ...value] = line.split(' ');
      if (command === 'SET' && key) {
        store.set(key, value.join(' '));
        stream.write('OK\n');
      } else if (command === 'GET' && key) {
        stream.write(`${store.get(key) ?? 'NOT_FOUND'}\n`);
      } else {
        stream.write('ERROR unknown command\n');
      }
    });
    lines.on('error', () => stream.destroy()); // readline re-emits the stream's errors (a client that went away)
  };
}

/** A client over one stream: `request(line)` resolves with the answer line (requests are answered in order). */
function keyValueClient(stream: Duplex): { request(line: string): Promise<string> } {
  const waiting: Array<{ resolve: (answer: string) => void; reject: (error: Error) => void }> = [];
  createInterface({ input: stream, crlfDelay: Infinity })
    .on('line', (answer) => waiting.shift()?.resolve(answer))
    .on('error', (error) => waiting.splice(0).forEach((request) => request.reject(error)));
  return {
    request: (line) =>
      new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        stream.write(`${line}\n`);
      }),
  };
}

// ---- the tests ----

let testnet: Testnet;

before(async () => {
  // 20 nodes: the first three behind NATs (a provider behind a port-restricted NAT, a client
  // behind a symmetric one), the rest public; 30 ms one-way latency on every link.
  testnet = await createTestnet({ size: 20, nat: ['port-restricted', 'symmetric', 'full-cone'], latency: 30, seed: 42 });
});

after(() => testnet.stop());

test('clients anywhere in the mesh find the key-value service and share its data', async () => {
  const [provider, natClient, , , publicClient] = testnet.nodes;
  // Everything that waits on the network goes through testnet.run(): it moves the virtual clock.
  await testnet.run(provider.register('kv', { handler: keyValueService(), metadata: { version: 1 } }));

  for (const client of [natClient, publicClient]) {
    const providers = await testnet.run(client.lookup('kv'));
    assert.deepEqual(
      providers.map((p) => [p.id, p.metadata]),
      [[provider.idHex, { version: 1 }]],
    );
  }

  // A client behind a symmetric NAT writes; a public node reads what it wrote.
  const writerStream = await testnet.run(natClient.connect('kv'));
  const writer = keyValueClient(writerStream);
  assert.equal(await testnet.run(writer.request('SET greeting hello through two NATs')), 'OK');
  assert.equal(await testnet.run(writer.request('FROB x')), 'ERROR unknown command');

  const readerStream = await testnet.run(publicClient.connect('kv'));
  const reader = keyValueClient(readerStream);
  assert.equal(await testnet.run(reader.request('GET greeting')), 'hello through two NATs');
  assert.equal(await testnet.run(reader.request('GET nothing')), 'NOT_FOUND');

  writerStream.destroy();
  readerStream.destroy();
});

test('a provider that unregisters disappears from lookups at once; another one takes over', async () => {
  const [first, , second, client] = testnet.nodes.slice(5);
  const registration = await testnet.run(first.register('kv-ha', { handler: keyValueService(new Map([['who', 'first']])) }));
  await testnet.run(second.register('kv-ha', { handler: keyValueService(new Map([['who', 'second']])) }));
  const both = await testnet.run(client.lookup('kv-ha'));
  assert.deepEqual(both.map((p) => p.id).sort(), [first.idHex, second.idHex].sort());

  await testnet.run(registration.unregister());
  const left = await testnet.run(client.lookup('kv-ha', { fresh: true }));
  assert.deepEqual(
    left.map((p) => p.id),
    [second.idHex],
  );

  const stream = await testnet.run(client.connect('kv-ha'));
  assert.equal(await testnet.run(keyValueClient(stream).request('GET who')), 'second');
  stream.destroy();
});
