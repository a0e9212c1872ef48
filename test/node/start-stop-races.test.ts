/** stop() and abort racing start(): whatever the interleaving, nothing is left running. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { MccNode, MccError } from '../../src/index.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const pendingTimers = (node: MccNode): number => (node as unknown as { clock: { pending: number } }).clock.pending;

/** A bound UDP socket that never answers: a bootstrap node that keeps start() waiting. */
async function silentPeer(t: { after: (fn: () => unknown) => void }): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  t.after(() => socket.close());
  return socket;
}

const rejectsWithCode = (code: string) => (error: unknown) => error instanceof MccError && error.code === code;

test('stop() while start() waits for a silent bootstrap node: start rejects ERR_STOPPED and no timer re-arms afterwards', async (t) => {
  const silent = await silentPeer(t);
  const node = await MccNode.create({ host: '127.0.0.1', bootstrap: [`127.0.0.1:${silent.address().port}`], requestTimeoutMs: 300 });
  const probed = once(silent, 'message');
  const starting = node.start();
  await probed; // start() is waiting for the silent bootstrap node
  await node.stop();
  await assert.rejects(starting, rejectsWithCode('ERR_STOPPED'));
  assert.equal(node.running, false);
  await sleep(600); // the bootstrap ping's timeout passes: nothing may start afterwards
  assert.equal(pendingTimers(node), 0);
});

test('an abort during start() rejects ERR_ABORTED and leaves the node stopped, socket closed', async (t) => {
  const silent = await silentPeer(t);
  const node = await MccNode.create({ host: '127.0.0.1', bootstrap: [`127.0.0.1:${silent.address().port}`], requestTimeoutMs: 2000 });
  const controller = new AbortController();
  const probed = once(silent, 'message');
  const starting = node.start({ signal: controller.signal });
  await probed; // start() is waiting for the silent bootstrap node
  controller.abort();
  await assert.rejects(starting, rejectsWithCode('ERR_ABORTED'));
  assert.equal(node.running, false);
  assert.equal(pendingTimers(node), 0);
  await assert.rejects(node.start(), rejectsWithCode('ERR_STOPPED'));
});

test('stop() during bind: start rejects ERR_STOPPED and never reports started', async () => {
  const node = await MccNode.create({ host: '127.0.0.1' });
  let started = false;
  node.on('started', () => (started = true));
  const starting = node.start();
  const stopping = node.stop();
  await assert.rejects(starting, rejectsWithCode('ERR_STOPPED'));
  await stopping;
  assert.equal(started, false);
  assert.equal(node.running, false);
  assert.equal(pendingTimers(node), 0);
});

test('concurrent stop() calls all resolve once the node is really stopped', async () => {
  const node = await MccNode.create({ host: '127.0.0.1' });
  await node.start();
  let stopped = false;
  node.on('stopped', () => (stopped = true));
  const first = node.stop();
  const second = node.stop();
  await second;
  assert.equal(stopped, true, 'the second stop() resolved only after the close finished');
  await first;
  assert.equal(pendingTimers(node), 0);
});

test('ping(address) after the node there restarted with a new identity asks again who it is', async (t) => {
  const a = await MccNode.create({ host: '127.0.0.1', requestTimeoutMs: 500 });
  await a.start();
  t.after(() => a.stop());
  const b = await MccNode.create({ host: '127.0.0.1' });
  await b.start();
  const port = b.address.port;
  assert.equal((await a.ping(b.address)).id, b.idHex);
  await b.stop();
  const b2 = await MccNode.create({ host: '127.0.0.1', port }); // same address, fresh key pair
  await b2.start();
  t.after(() => b2.stop());
  const pong = await a.ping({ host: '127.0.0.1', port });
  assert.equal(pong.id, b2.idHex, 'the new identity answered');
  assert.equal((await a.ping({ host: '127.0.0.1', port })).id, b2.idHex, 'and is remembered');
});

test("a throwing 'peer' listener does not cost the request that introduced the peer", async (t) => {
  const a = await MccNode.create({ host: '127.0.0.1', requestTimeoutMs: 2000 });
  const b = await MccNode.create({ host: '127.0.0.1', logger: { debug() {}, info() {}, warn() {}, error() {} } });
  await Promise.all([a.start(), b.start()]);
  t.after(() => Promise.all([a.stop(), b.stop()]));
  b.on('peer', () => {
    throw new Error('listener bug');
  });
  const before = b.stats().droppedTotal;
  const pong = await a.ping(b.address);
  assert.equal(pong.id, b.idHex);
  assert.equal(b.stats().droppedTotal, before, 'nothing dropped on b');
  assert.equal(a.stats().rpc.retransmits, 0, 'answered on the first attempt');
});

test('ping(address) to a restarted identity known only from its own messages (no RTT yet) succeeds within the default timeout', async (t) => {
  const quiet = { debug() {}, info() {}, warn() {}, error() {} } as never;
  const a = await MccNode.create({ host: '127.0.0.1', logger: quiet });
  const b = await MccNode.create({ host: '127.0.0.1', logger: quiet });
  await Promise.all([a.start(), b.start()]);
  t.after(() => a.stop());
  const port = b.address.port;
  await b.ping(a.address); // a learns b's ID from b's request, and measures no RTT to it
  await b.stop();
  const b2 = await MccNode.create({ host: '127.0.0.1', port, logger: quiet });
  await b2.start();
  t.after(() => b2.stop());
  const pong = await a.ping({ host: 'localhost', port }); // the object form takes "localhost" too
  assert.equal(pong.id, b2.idHex);
});

test('a start aborted before the join does not overwrite the saved routing table with an empty one', async (t) => {
  const { mkdtemp, readFile, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'mcc-routing-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'routing.json');
  const saved = JSON.stringify({ version: 1, contacts: [{ id: 'ab'.repeat(32), host: '127.0.0.1', port: 9 }] });
  await writeFile(file, saved);
  const silent = await silentPeer(t);
  const node = await MccNode.create({ host: '127.0.0.1', bootstrap: [`127.0.0.1:${silent.address().port}`], routingTable: file });
  const controller = new AbortController();
  const probed = once(silent, 'message');
  const starting = node.start({ signal: controller.signal });
  await probed; // start() is waiting for the silent bootstrap node
  controller.abort();
  await assert.rejects(starting, rejectsWithCode('ERR_ABORTED'));
  assert.equal(await readFile(file, 'utf8'), saved, 'the saved peers are still there');
});
