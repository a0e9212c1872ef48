import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MccNode } from '../../src/index.js';
import { RawPeer } from '../helpers/raw-peer.js';

async function startNode(t: { after: (fn: () => unknown) => void }): Promise<MccNode> {
  const node = await MccNode.create({ host: '127.0.0.1' });
  await node.start();
  t.after(() => node.stop());
  return node;
}

test('anti-amplification: an unvalidated source never gets more bytes than it sent', async (t) => {
  const node = await startNode(t);
  const peer = await RawPeer.open();
  t.after(() => peer.close());

  // An unpadded first-contact ping: the pong (with a new token) would be larger, and so would a cookie.
  const small = peer.seal(node.id, { rid: 1, ping: {} });
  peer.send(node.address, small);
  await peer.settle();
  const bytesBack = peer.received.reduce((sum, r) => sum + r.data.length, 0);
  assert.ok(bytesBack <= small.length, `answered ${bytesBack} bytes to a ${small.length}-byte datagram`);
  assert.equal(peer.received.length, 0, 'no cookie fits in an unpadded request, so nothing is sent');
  assert.ok(node.stats().amplificationLimited >= 1);

  // A padded first contact earns a cookie no larger than the request ...
  const padded = peer.seal(node.id, { rid: 2, ping: {}, padding: new Uint8Array(200) });
  assert.ok(padded.length >= 256);
  peer.send(node.address, padded);
  await peer.waitFor(1);
  const cookieAnswer = peer.received[0];
  assert.ok(cookieAnswer.data.length <= padded.length);
  const token = cookieAnswer.envelope?.cookie?.token ?? cookieAnswer.envelope?.newToken;
  assert.ok(token && token.length === 16, 'the answer carries a token');

  // ... and echoing the token gets the full answer, with the observed address.
  peer.send(node.address, peer.seal(node.id, { rid: 3, ping: {}, token }));
  await peer.waitFor(2);
  const pong = peer.received[1].envelope!;
  assert.equal(pong.rid, 3);
  assert.ok(pong.pong?.observed, 'a pong with the observed address');

  // A token bound to another address is worthless.
  const other = await RawPeer.open();
  t.after(() => other.close());
  // Same identity would be needed for the token; a different peer at another address gets nothing extra.
  other.send(node.address, other.seal(node.id, { rid: 4, ping: {}, token }));
  await other.settle();
  assert.equal(other.received.length, 0);
});

test('replays, duplicates and stale counters are dropped; reordering within the window is accepted', async (t) => {
  const node = await startNode(t);
  const peer = await RawPeer.open();
  t.after(() => peer.close());
  const pad = new Uint8Array(200);
  // Counters 10, 7, 8 arrive out of order: all fresh, all answered (cookie or pong).
  const d10 = peer.seal(node.id, { rid: 10, ping: {}, padding: pad }, 10);
  const d7 = peer.seal(node.id, { rid: 7, ping: {}, padding: pad }, 7);
  const d8 = peer.seal(node.id, { rid: 8, ping: {}, padding: pad }, 8);
  for (const d of [d10, d7, d8]) peer.send(node.address, d);
  await peer.waitFor(3);
  assert.equal(peer.received.length, 3);
  // Exact replays of each, and a duplicate burst: all dropped and counted.
  for (const d of [d10, d7, d8, d8, d8]) peer.send(node.address, d);
  await peer.settle();
  assert.equal(peer.received.length, 3, 'no answer to a replay');
  assert.equal(node.stats().dropped.replayed, 5);
  // A counter far older than the 2048 window, never seen before, is also refused.
  peer.send(node.address, peer.seal(node.id, { rid: 11, ping: {}, padding: pad }, 10_000));
  await peer.waitFor(4);
  peer.send(node.address, peer.seal(node.id, { rid: 12, ping: {}, padding: pad }, 5));
  await peer.settle();
  assert.equal(peer.received.length, 4);
  assert.equal(node.stats().dropped.replayed, 6);
});

test('forged, truncated and garbage datagrams are dropped and counted, and the node keeps answering', async (t) => {
  const node = await startNode(t);
  const peer = await RawPeer.open();
  t.after(() => peer.close());
  const good = peer.seal(node.id, { rid: 1, ping: {}, padding: new Uint8Array(200) });
  const flipped = good.slice();
  flipped[flipped.length - 1] ^= 1;
  peer.send(node.address, flipped); // bad tag
  peer.send(node.address, good.slice(0, 30)); // truncated header
  peer.send(node.address, new Uint8Array([0x99, 1, 2, 3])); // unknown kind
  peer.send(node.address, new Uint8Array(1300).fill(0x11)); // oversized
  await peer.settle();
  const dropped = node.stats().dropped;
  assert.equal(dropped.unauthenticated, 1);
  assert.equal(dropped.malformed, 2);
  assert.equal(dropped.oversized, 1);
  assert.equal(dropped.internal, 0);
  assert.equal(peer.received.length, 0);
  peer.send(node.address, good);
  await peer.waitFor(1);
  assert.equal(peer.received.length, 1, 'still answering after garbage');
});
