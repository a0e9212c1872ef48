import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionLayer, type InboundMessage } from '../../src/session/session.js';
import { UdpTransport } from '../../src/transport/udp.js';
import { Stats } from '../../src/util/stats.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';
import { nodeCryptoSuite, generateIdentity } from '../../src/crypto/index.js';
import { RawPeer } from '../helpers/raw-peer.js';

/** Resolves once `count` messages arrived (real UDP on loopback), or fails after 2 s. */
async function until(received: InboundMessage[], count: number): Promise<void> {
  for (let waited = 0; received.length < count; waited += 10) {
    if (waited > 2000) assert.fail(`only ${received.length} of ${count} messages arrived`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('an idle peer loses its keys and window, keeps its replay floor, and is served again on its next datagram (real UDP)', async (t) => {
  const transport = new UdpTransport({ host: '127.0.0.1' });
  await transport.bind();
  const clock = new VirtualClock(0);
  const stats = new Stats();
  const identity = generateIdentity(nodeCryptoSuite);
  const session = new SessionLayer({ identity, suite: nodeCryptoSuite, transport, clock, stats, peerIdleMs: 1000 });
  const received: InboundMessage[] = [];
  session.onMessage((message) => received.push(message));
  const a = await RawPeer.open();
  const b = await RawPeer.open();
  t.after(async () => {
    session.close();
    a.close();
    b.close();
    await transport.close();
  });
  const address = transport.localAddress();
  const pad = new Uint8Array(200);
  const d1 = a.seal(identity.publicKey, { rid: 1, ping: {}, padding: pad });
  const d2 = a.seal(identity.publicKey, { rid: 2, ping: {}, padding: pad });
  a.send(address, d1);
  a.send(address, d2);
  await until(received, 2);
  const keys = (session as unknown as { keys: { size: number } }).keys;
  assert.equal(keys.size, 1, "a's receive key is cached");

  clock.advance(2500); // two idle periods: the next datagram (from b) rotates a's state out
  b.send(address, b.seal(identity.publicKey, { rid: 9, ping: {}, padding: pad }));
  await until(received, 3);
  assert.equal(keys.size, 1, "only b's key is left");

  // a's old datagrams stay refused: its boot ID and highest counter were kept.
  a.send(address, d2);
  a.send(address, d1);
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(received.length, 3);
  assert.equal(stats.dropped.replayed, 2);

  // A new datagram of a's is opened with a key derived again, and answered as before.
  a.send(address, a.seal(identity.publicKey, { rid: 3, ping: {}, padding: pad }));
  await until(received, 4);
  assert.equal(received[3].envelope.rid, 3);
  assert.equal(keys.size, 2);
});
