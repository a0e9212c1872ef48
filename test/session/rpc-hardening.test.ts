import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { MccNode } from '../../src/index.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { createSimMesh } from '../helpers/sim-mesh.js';
import { FIRST_CONTACT_LARGE_ANSWER_SIZE, TOKEN_REQUEST_SIZE, padRequest } from '../../src/session/padding.js';
import { MAX_DATAGRAM_SIZE, MAX_ENVELOPE_SIZE, SESSION_OVERHEAD } from '../../src/wire/constants.js';

test('a request that cannot be sent (peer key off the curve) rejects and frees its slot', async (t) => {
  const node = await MccNode.create({ host: '127.0.0.1' });
  await node.start();
  t.after(() => node.stop());
  // y = 1 is the neutral point: no session key can come of it (see src/session/peer-x25519.ts).
  const bogus = new Uint8Array(32);
  bogus[0] = 1;
  for (let i = 0; i < 50; i++) {
    await assert.rejects(node.rpc.request({ id: bogus, address: { host: '127.0.0.1', port: 9 } }, { ping: {} }), { code: 'ERR_CRYPTO' });
  }
  assert.equal((node.rpc as unknown as { pending: Map<number, unknown> }).pending.size, 0);
  await assert.rejects(node.rpc.request({ id: node.id, address: node.address }, { ping: {} }, { timeoutMs: Number.NaN }), { code: 'ERR_INVALID_ARGUMENT' });
  await assert.rejects(node.rpc.request({ id: node.id, address: node.address }, { ping: {} }, { retries: -1 }), { code: 'ERR_INVALID_ARGUMENT' });
});

test('an answer too large to seal is counted, never thrown out of the receive path', async (t) => {
  const a = await MccNode.create({ host: '127.0.0.1', requestTimeoutMs: 300 });
  const b = await MccNode.create({ host: '127.0.0.1' });
  await Promise.all([a.start(), b.start()]);
  t.after(() => Promise.all([a.stop(), b.stop()]));
  const huge = Array.from({ length: 40 }, () => ({ id: new Uint8Array(32).fill(7), address: { ip: new Uint8Array(16), port: 1 } }));
  b.rpc.handle('findNode', () => ({ findNodeResult: { contacts: huge } }));
  await a.ping(b.address);
  await assert.rejects(a.rpc.request({ id: b.id, address: b.address }, { findNode: { target: new Uint8Array(32) } }), { code: 'ERR_TIMEOUT' });
  assert.ok(b.stats().rpc.failedReplies >= 1);
  assert.equal((await a.ping(b.address)).id, b.idHex, 'b still answers');
});

test('requests are padded: first contact to 256 bytes, token-carrying ones to 128; request IDs are not sequential', async (t) => {
  const node = await MccNode.create({ host: '127.0.0.1', requestTimeoutMs: 200 });
  await node.start();
  t.after(() => node.stop());
  const peer = await RawPeer.open();
  t.after(() => peer.close());
  const target = { id: peer.identity.publicKey, address: peer.address };
  const first = node.rpc.request(target, { ping: {} }, { retries: 0 }).catch(() => undefined);
  await peer.waitFor(1);
  assert.ok(peer.received[0].data.length >= 256, `first contact is ${peer.received[0].data.length} bytes`);
  await first;
  node.session.holdToken(target, new Uint8Array(16).fill(1));
  const second = node.rpc.request(target, { ping: {} }, { retries: 0 }).catch(() => undefined);
  await peer.waitFor(2);
  const withToken = peer.received[1];
  assert.ok(withToken.data.length >= 128 && withToken.data.length < 256, `token request is ${withToken.data.length} bytes`);
  await second;
  const rids = peer.received.map((r) => r.envelope!.rid!);
  assert.notEqual(rids[1], rids[0] + 1);
  // A first-contact FIND_NODE is padded to a full datagram, so its full answer needs no cookie.
  const other = await RawPeer.open();
  t.after(() => other.close());
  const find = node.rpc
    .request({ id: other.identity.publicKey, address: other.address }, { findNode: { target: new Uint8Array(32) } }, { retries: 0 })
    .catch(() => undefined);
  await other.waitFor(1);
  assert.equal(other.received[0].data.length, MAX_DATAGRAM_SIZE);
  await find;
});

test('padding never makes a request datagram larger than the datagram limit', () => {
  for (let length = 0; length <= MAX_ENVELOPE_SIZE; length++) {
    for (const carriesToken of [false, true]) {
      const padded = padRequest(new Uint8Array(length), { findNode: {} }, carriesToken);
      const size = SESSION_OVERHEAD + padded.length;
      assert.ok(size <= MAX_DATAGRAM_SIZE, `${length} -> ${size}`);
      // At least the target, except where no exact fit exists at the limit (one byte short).
      assert.ok(
        size >= Math.min(carriesToken ? TOKEN_REQUEST_SIZE : FIRST_CONTACT_LARGE_ANSWER_SIZE, MAX_DATAGRAM_SIZE - 1) || padded.length === length,
        `${length} -> ${size}`,
      );
    }
  }
});

test('a lookup between fresh nodes on UDP needs no cookie round trip', async (t) => {
  // Seven nodes, all started: a seed and six that join through it, so that FIND_NODE answers
  // carry several contacts (more bytes than an unpadded first-contact request) and go to
  // addresses that have not proven themselves yet.
  const seed = await MccNode.create({ host: '127.0.0.1' });
  const nodes = [seed];
  t.after(() => Promise.all(nodes.map((node) => node.stop())));
  await seed.start();
  for (let i = 0; i < 6; i++) {
    const joined = await MccNode.create({ host: '127.0.0.1', bootstrap: [seed.address] });
    nodes.push(joined);
    await joined.start();
  }
  assert.equal(nodes.length, 7);
  const before = nodes.map((node) => node.stats().rpc.answered);
  await nodes[nodes.length - 1].kad.lookup(new Uint8Array(32).fill(3));
  for (const [i, node] of nodes.entries()) {
    const stats = node.stats();
    assert.equal(node.toJSON().state, 'started', `node ${i} runs`);
    assert.ok(stats.datagramsIn > 0 && stats.datagramsOut > 0, `node ${i} took part: ${stats.datagramsIn} in, ${stats.datagramsOut} out`);
    assert.equal(stats.amplificationLimited, 0, `node ${i} never had to send a cookie instead of an answer`);
  }
  assert.ok(nodes.at(-1)!.stats().rpc.answered > before.at(-1)!, 'the lookup got answers');
  // The seed knows all six: its FIND_NODE answers are larger than a 256-byte unpadded request.
  assert.equal(seed.kad.table.size, 6);
});

test('peers that stay quiet past the token lifetime still reach each other', async (t) => {
  const mesh = await createSimMesh({ seed: 11 });
  t.after(() => mesh.stop());
  const a = await mesh.addNode();
  const b = await mesh.addNode({ bootstrap: [] });
  await mesh.drive(a.ping(b.address));
  await mesh.drive(new Promise((resolve) => mesh.clock.setTimeout(() => resolve(null), 150_000)));
  for (let i = 0; i < 3; i++) assert.equal((await mesh.drive(a.ping(b.address))).id, b.idHex);
  assert.equal(a.stats().rpc.timeouts, 0, 'no request had to time out to recover');
});

test('a pending identify rejects with ERR_STOPPED when the node stops', async () => {
  const node = await MccNode.create({ host: '127.0.0.1' });
  await node.start();
  const { createSocket } = await import('node:dgram');
  const silent = createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  const probed = once(silent, 'message');
  const pending = node.ping({ host: '127.0.0.1', port: silent.address().port }, { timeoutMs: 60_000 });
  const outcome = assert.rejects(pending, { code: 'ERR_STOPPED' });
  await probed; // the identify probe is out: the ping is pending on it
  await node.stop();
  await outcome;
  silent.close();
});
