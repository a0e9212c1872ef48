import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MccNode, MccError } from '../../src/index.js';

test('three nodes on loopback bootstrap, ping each other and learn their observed addresses', async (t) => {
  const a = await MccNode.create({ host: '127.0.0.1' });
  await a.start();
  const b = await MccNode.create({ host: '127.0.0.1', bootstrap: [`127.0.0.1:${a.address.port}`] });
  const c = await MccNode.create({ host: '127.0.0.1', bootstrap: [a.address] });
  t.after(() => Promise.all([a.stop(), b.stop(), c.stop()]));
  await Promise.all([b.start(), c.start()]);

  assert.equal(a.id.length, 32);
  assert.notEqual(a.idHex, b.idHex);
  // Bootstrap pinged A: A knows both, B and C know A.
  assert.equal(a.stats().peers, 2);
  assert.equal(b.peers()[0].id, a.idHex);

  const pong = await c.ping(b.address);
  assert.equal(pong.id, b.idHex);
  assert.deepEqual(pong.observed, c.address);
  assert.ok(pong.rttMs >= 0);

  const stats = c.stats();
  assert.ok(stats.datagramsOut >= 2 && stats.datagramsIn >= 2);
  // Late duplicate answers to retransmitted requests (a loaded machine) count as 'unexpected'; nothing else may drop.
  assert.equal(stats.droppedTotal - stats.dropped.unexpected, 0, JSON.stringify(stats.dropped));
  assert.ok(stats.rpc.answered >= 2);
});

test('start/stop lifecycle errors are typed', async () => {
  const node = await MccNode.create({ host: '127.0.0.1' });
  assert.throws(
    () => node.address,
    (error: unknown) => error instanceof MccError && error.code === 'ERR_NOT_STARTED',
  );
  await assert.rejects(node.ping('127.0.0.1:9'), { code: 'ERR_NOT_STARTED' });
  await node.start();
  await assert.rejects(node.start(), { code: 'ERR_ALREADY_STARTED' });
  await node.stop();
  await node.stop(); // idempotent
  await assert.rejects(node.start(), { code: 'ERR_STOPPED' });
});

test('bad arguments reject with ERR_INVALID_ARGUMENT naming the argument', async () => {
  await assert.rejects(MccNode.create({ port: 70000 }), (error: MccError) => error.code === 'ERR_INVALID_ARGUMENT' && error.message.includes('"port"'));
  await assert.rejects(
    MccNode.create({ bootstrap: ['nonsense'] }),
    (error: MccError) => error.code === 'ERR_INVALID_ARGUMENT' && error.message.includes('bootstrap[0]'),
  );
  await assert.rejects(
    MccNode.create({ bootstrap: ['mesh.example:4100'] }),
    (error: MccError) => error.code === 'ERR_INVALID_ARGUMENT' && error.message.includes('bootstrap[0]'),
  );
  await assert.rejects(MccNode.create({ identity: { publicKey: new Uint8Array(3), secretKey: new Uint8Array(32) } }), { code: 'ERR_INVALID_ARGUMENT' });
  const node = await MccNode.create({ host: '127.0.0.1' });
  await node.start();
  try {
    await assert.rejects(node.ping('no-port'), (error: MccError) => error.code === 'ERR_INVALID_ARGUMENT' && error.message.includes('"target"'));
    await assert.rejects(node.ping({ host: '127.0.0.1', port: -1 }), { code: 'ERR_INVALID_ARGUMENT' });
    // Hostnames are not resolved by the UDP transport: refused at once, not a timeout later.
    await assert.rejects(
      node.ping('example.invalid:4000'),
      (error: MccError) => error.code === 'ERR_INVALID_ARGUMENT' && /not an IP address/.test(error.message),
    );
    const viaLocalhost = await MccNode.create({ bootstrap: ['localhost:4100'] }); // the one name accepted (never started)
    await viaLocalhost.stop();
  } finally {
    await node.stop();
  }
});

test('ping of a silent address times out, and an aborted ping rejects with ERR_ABORTED', async (t) => {
  const node = await MccNode.create({ host: '127.0.0.1', requestTimeoutMs: 300 });
  await node.start();
  t.after(() => node.stop());
  // A bound socket that never answers.
  const { createSocket } = await import('node:dgram');
  const silent = createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  t.after(() => silent.close());
  const target = { host: '127.0.0.1', port: silent.address().port };
  await assert.rejects(node.ping(target), { code: 'ERR_TIMEOUT' });
  const controller = new AbortController();
  const pending = node.ping(target, { signal: controller.signal, timeoutMs: 5000 });
  controller.abort();
  await assert.rejects(pending, { code: 'ERR_ABORTED' });
});

test('a bootstrap node that does not answer is a warning, not a failure', async () => {
  const node = await MccNode.create({ host: '127.0.0.1', bootstrap: ['127.0.0.1:9'], requestTimeoutMs: 200 });
  const warnings: MccError[] = [];
  node.on('warning', (error) => warnings.push(error));
  await node.start();
  await node.stop();
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0].code, 'ERR_UNREACHABLE');
});

test('both crypto suites interoperate on the wire', async (t) => {
  const a = await MccNode.create({ host: '127.0.0.1', crypto: 'node' });
  const b = await MccNode.create({ host: '127.0.0.1', crypto: 'noble' });
  await Promise.all([a.start(), b.start()]);
  t.after(() => Promise.all([a.stop(), b.stop()]));
  assert.equal((await a.ping(b.address)).id, b.idHex);
  assert.equal((await b.ping(a.address)).id, a.idHex);
});
