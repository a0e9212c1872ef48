import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MccNode, type TunnelInfo } from '../../src/index.js';

test('events and stats() follow registrations, tunnels and forwards on real UDP', async (t) => {
  const a = await MccNode.create({ host: '127.0.0.1', lan: false });
  await a.start();
  const b = await MccNode.create({ host: '127.0.0.1', lan: false, bootstrap: [a.address] });
  await b.start();
  t.after(() => Promise.all([a.stop(), b.stop()]));

  const registered: string[] = [];
  a.on('registered', (name) => registered.push(name));
  await a.register('echo', { handler: (stream) => stream.pipe(stream) });
  assert.deepEqual(registered, ['echo']);

  const opened: Array<[string, TunnelInfo]> = [];
  a.on('tunnel-open', (info) => opened.push(['a', info]));
  b.on('tunnel-open', (info) => opened.push(['b', info]));
  const closedOnA = new Promise<TunnelInfo>((resolve) => a.once('tunnel-close', resolve));

  const stream = await b.connect('echo');
  stream.end('hello');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'hello');

  assert.deepEqual(opened.map(([side, info]) => [side, info.peer]).sort(), [
    ['a', b.idHex],
    ['b', a.idHex],
  ]);
  const statsA = a.stats();
  assert.equal(statsA.services.registered, 1);
  assert.ok(statsA.dht.contacts >= 1, 'a knows b');
  assert.ok(statsA.dht.records >= 1, 'a stores at least its own provider record (two-node mesh)');
  assert.equal(statsA.tunnels.open, 1);
  assert.equal(statsA.tunnels.relayed, 0);
  assert.ok(statsA.tunnels.bytesReceived > 0 && statsA.tunnels.bytesSent > 0);

  const forward = await b.forward('echo', { port: 0 });
  assert.equal(b.stats().services.forwards, 1);
  await forward.close();
  assert.equal(b.stats().services.forwards, 0);

  const unregistered = new Promise<string>((resolve) => a.once('unregistered', resolve));
  assert.equal(await a.unregister('echo'), true);
  assert.equal(await unregistered, 'echo');
  assert.equal(a.stats().services.registered, 0);

  await b.stop();
  const closed = await closedOnA;
  assert.equal(closed.peer, b.idHex);
  assert.ok(closed.bytesReceived > 0, 'the closing event carries the final byte counts');
});
