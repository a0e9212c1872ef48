import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Duplex } from 'node:stream';
import { MccNode } from '../../src/index.js';

async function echo(node: MccNode, name: string, text: string): Promise<string> {
  const stream: Duplex = await node.connect(name, { timeoutMs: 5000 });
  stream.end(text);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

test('a provider reaches a service of its client over the connection the client opened (streams both ways on one tunnel)', async (t) => {
  const a = await MccNode.create({ host: '127.0.0.1', lan: false });
  await a.start();
  const b = await MccNode.create({ host: '127.0.0.1', lan: false, bootstrap: [a.address] });
  await b.start();
  t.after(() => Promise.all([a.stop(), b.stop()]));
  await a.register('svc-a', { handler: (stream) => stream.pipe(stream) });
  await b.register('svc-b', { handler: (stream) => stream.pipe(stream) });

  assert.equal(await echo(b, 'svc-a', 'b to a'), 'b to a');
  // a now holds the connection b opened; its stream to b's service rides it and must be routed by b.
  assert.equal(await echo(a, 'svc-b', 'a to b'), 'a to b');
  assert.equal(a.stats().tunnels.open, 1, 'one connection carried both directions');
});
