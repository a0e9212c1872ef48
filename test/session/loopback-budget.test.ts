/**
 * Per-source budgets on loopback count each port on its own (util/address.ts, budgetSource):
 * every node of a machine speaks from 127.0.0.1, so a per-IP budget throttled a hundred
 * local nodes joining through one as if they were one flooding source. One port is still
 * held to the budget. Real UDP on loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { MccNode } from '../../src/index.js';
import { budgetSource, isLoopbackHost } from '../../src/util/address.js';
import { encodeIdentifyRequest, IDENTIFY_RESPONSE } from '../../src/session/identify.js';
import { RawPeer } from '../helpers/raw-peer.js';

const PEERS = 150; // above the default first-contact burst of one source (100)

async function startNode(t: { after: (fn: () => unknown) => void }): Promise<MccNode> {
  const node = await MccNode.create({ host: '127.0.0.1', lan: false });
  await node.start();
  t.after(() => node.stop());
  return node;
}

test('budgetSource keys loopback sources by port and every other source by IP', () => {
  for (const host of ['127.0.0.1', '127.5.6.7', '::1', '::ffff:127.0.0.1', '::FFFF:127.0.0.2']) assert.ok(isLoopbackHost(host), host);
  for (const host of ['10.0.0.1', '192.168.1.1', '::2', 'fe80::1', '128.0.0.1', '::ffff:10.0.0.1', 'sim-host-127']) assert.ok(!isLoopbackHost(host), host);
  assert.equal(budgetSource({ host: '127.0.0.1', port: 4000 }), '127.0.0.1:4000');
  assert.equal(budgetSource({ host: '::1', port: 4000 }), '[::1]:4000');
  assert.equal(budgetSource({ host: '203.0.113.9', port: 4000 }), '203.0.113.9');
  assert.equal(budgetSource({ host: '203.0.113.9', port: 4001 }), budgetSource({ host: '203.0.113.9', port: 4000 }));
});

test('150 loopback peers making first contact at once all get an answer; one port making 150 is held to the budget', async (t) => {
  const node = await startNode(t);
  const peers = await Promise.all(Array.from({ length: PEERS }, () => RawPeer.open()));
  t.after(() => peers.forEach((peer) => peer.close()));
  const padding = new Uint8Array(200); // a padded first contact earns a (sealed) cookie answer
  for (const [i, peer] of peers.entries()) peer.send(node.address, peer.seal(node.id, { rid: i + 1, ping: {}, padding }));
  await Promise.all(peers.map((peer) => peer.waitFor(1, 5000)));
  assert.equal(peers.filter((peer) => peer.received.length > 0).length, PEERS, 'every port got its answer');
  assert.equal(node.stats().rateLimited.keyAgreement, 0);

  // The same 150 identities again, each with a new boot (a new key to derive), all from one port.
  const fresh = await Promise.all(Array.from({ length: PEERS }, () => RawPeer.open()));
  t.after(() => fresh.forEach((peer) => peer.close()));
  const sender = fresh[0];
  for (const [i, peer] of fresh.entries()) sender.send(node.address, peer.seal(node.id, { rid: i + 1, ping: {}, padding }));
  await sender.waitFor(PEERS, 1500);
  const limited = node.stats().rateLimited.keyAgreement;
  assert.ok(limited >= PEERS - 110, `one port held to its burst of 100 (+ refill): ${limited} of ${PEERS} rate-limited`);
  assert.ok(sender.received.length <= PEERS - limited, `answers ${sender.received.length}`);
});

test('identify probes: one each from 60 loopback ports are all answered, 60 from one port are held to the budget', async (t) => {
  const node = await startNode(t);
  const sockets = await Promise.all(
    Array.from({ length: 61 }, async () => {
      const socket = createSocket('udp4');
      socket.bind(0, '127.0.0.1');
      await once(socket, 'listening');
      return socket;
    }),
  );
  t.after(() => sockets.forEach((socket) => socket.close()));
  const answers = new Map<number, number>();
  for (const [i, socket] of sockets.entries()) {
    socket.on('message', (data) => {
      if (data[0] === IDENTIFY_RESPONSE) answers.set(i, (answers.get(i) ?? 0) + 1);
    });
  }
  const probe = () => encodeIdentifyRequest(randomBytes(8));
  for (const socket of sockets.slice(1)) socket.send(probe(), node.address.port, '127.0.0.1');
  for (let i = 0; i < 60; i++) sockets[0].send(probe(), node.address.port, '127.0.0.1');
  const deadline = Date.now() + 3000;
  while ([...answers.keys()].filter((i) => i > 0).length < 60 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal([...answers.keys()].filter((i) => i > 0).length, 60, 'each of the 60 ports got its answer');
  const fromOnePort = answers.get(0) ?? 0;
  assert.ok(fromOnePort >= 40 && fromOnePort < 50, `one port: ${fromOnePort} of 60 answered (burst 40, 20/s)`);
  assert.ok(node.stats().rateLimited.identify >= 10);
});
