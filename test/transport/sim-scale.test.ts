import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimNetwork } from '../../src/transport/sim/network.js';
import type { SimNatType } from '../../src/transport/sim/nat.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';

test('10,000 transports (1,000 of them behind NATs) exchange a datagram each under a virtual clock', async (t) => {
  const started = performance.now();
  const clock = new VirtualClock();
  const network = new SimNetwork({ clock, seed: 99, defaultLink: { latencyMs: 20, jitterMs: 5 } });
  const n = 10_000;
  const natTypes: SimNatType[] = ['full-cone', 'port-restricted', 'symmetric'];
  const nats = Array.from({ length: 100 }, (_, i) => network.createNat({ type: natTypes[i % 3] }));
  // The first 1,000 sit behind the NATs (10 per NAT); they only send, to public peers.
  const transports = Array.from({ length: n }, (_, i) => network.createTransport(i < 1000 ? { nat: nats[i % 100] } : {}));
  const addresses = await Promise.all(transports.map((tr) => tr.bind()));
  const received = new Uint32Array(n);
  transports.forEach((tr, i) => tr.onDatagram((data) => (received[i] += data.byteLength === 4 ? 1 : 0)));

  const payload = new Uint8Array(4);
  const target = (i: number) => (i < 1000 ? 1000 + i : i + 1 === n ? 1000 : i + 1);
  for (let i = 0; i < n; i++) {
    new DataView(payload.buffer).setUint32(0, i);
    transports[i].send(addresses[target(i)], payload);
  }
  clock.runUntilIdle();

  const expected = new Uint32Array(n);
  for (let i = 0; i < n; i++) expected[target(i)]++;
  assert.deepEqual(received, expected);
  assert.equal(network.stats.sent, n);
  assert.equal(network.stats.delivered, n);
  assert.equal(clock.pending, 0);
  assert.ok(clock.now() <= 25);
  await Promise.all(transports.map((tr) => tr.close()));
  t.diagnostic(`10k transports: ${(performance.now() - started).toFixed(0)} ms wall`);
});
