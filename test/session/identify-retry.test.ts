/**
 * Identify probes are sent again after the initial RTO (doubling) until their timeout: a
 * lost probe, or one the other end's per-IP identify budget dropped, costs a second instead
 * of the whole timeout (a join used to wait the full 4 s for its bootstrap ping).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { SessionLayer } from '../../src/session/session.js';
import { UdpTransport } from '../../src/transport/udp.js';
import { Stats } from '../../src/util/stats.js';
import { systemClock } from '../../src/util/clock.js';
import { nodeCryptoSuite, generateIdentity } from '../../src/crypto/index.js';
import { encodeIdentifyResponse, IDENTIFY_REQUEST } from '../../src/session/identify.js';
import { MccError } from '../../src/errors.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';
import type { Transport } from '../../src/transport/types.js';

async function udpPeer(): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { socket, port: socket.address().port };
}

test('an identify probe whose first datagram is dropped is answered after one retransmission (real UDP)', async (t) => {
  const transport = new UdpTransport({ host: '127.0.0.1' });
  await transport.bind();
  const session = new SessionLayer({ identity: generateIdentity(nodeCryptoSuite), suite: nodeCryptoSuite, transport, clock: systemClock, stats: new Stats() });
  const { socket, port } = await udpPeer();
  t.after(async () => {
    session.close();
    socket.close();
    await transport.close();
  });
  const claimed = generateIdentity(nodeCryptoSuite).publicKey;
  const probes: Buffer[] = [];
  socket.on('message', (data, from) => {
    assert.equal(data[0], IDENTIFY_REQUEST);
    probes.push(data);
    // The first probe is "lost"; the second is answered.
    if (probes.length === 2) socket.send(encodeIdentifyResponse(data.subarray(1, 9), claimed), from.port, from.address);
  });
  const started = performance.now();
  const id = await session.identify({ host: '127.0.0.1', port }, 4000);
  const elapsed = performance.now() - started;
  assert.deepEqual(Buffer.from(id), Buffer.from(claimed));
  assert.equal(probes.length, 2);
  assert.deepEqual(probes[1], probes[0], 'the retransmission repeats the same nonce');
  assert.ok(elapsed >= 900 && elapsed < 3000, `answered after ${elapsed.toFixed(0)} ms: one initial RTO (1 s), not the 4 s timeout`);
});

test('an unanswered identify is sent at 0, 1 and 3 s, then times out at its deadline and sends no more', async () => {
  const clock = new VirtualClock();
  const sent: number[] = [];
  const transport: Transport = {
    bind: async () => ({ host: '127.0.0.1', port: 1 }),
    send: () => void sent.push(clock.now()),
    onDatagram: () => {},
    localAddress: () => ({ host: '127.0.0.1', port: 1 }),
    close: async () => {},
  };
  const session = new SessionLayer({ identity: generateIdentity(nodeCryptoSuite), suite: nodeCryptoSuite, transport, clock, stats: new Stats() });
  const probe = session.identify({ host: '127.0.0.1', port: 9 }, 4000);
  const outcome = probe.then(
    () => assert.fail('resolved without an answer'),
    (error: unknown) => error,
  );
  clock.advance(10_000);
  const error = await outcome;
  assert.ok(error instanceof MccError && error.code === 'ERR_TIMEOUT');
  assert.deepEqual(sent, [0, 1000, 3000]);
});
