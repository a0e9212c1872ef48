import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RttEstimator } from '../../src/util/rtt.js';
import { createSimMesh } from '../helpers/sim-mesh.js';

test('RTT estimation follows RFC 6298: first sample, smoothing, RTO floor and cap', () => {
  const limits = { initialRtoMs: 1000, minRtoMs: 50, maxRtoMs: 10_000 };
  const rtt = new RttEstimator();
  assert.equal(rtt.rto(limits), 1000, 'initial RTO before any sample');
  assert.equal(rtt.srtt, undefined);
  rtt.sample(100);
  assert.equal(rtt.srtt, 100);
  assert.equal(rtt.variance, 50);
  assert.equal(rtt.rto(limits), 300); // 100 + 4 * 50
  rtt.sample(200);
  assert.equal(rtt.variance, 0.75 * 50 + 0.25 * 100);
  assert.equal(rtt.srtt, 0.875 * 100 + 0.125 * 200);
  for (let i = 0; i < 100; i++) rtt.sample(1);
  assert.equal(rtt.rto(limits), 50, 'floored');
  for (let i = 0; i < 100; i++) rtt.sample(60_000);
  assert.equal(rtt.rto(limits), 10_000, 'capped');
  rtt.sample(Number.NaN);
  rtt.sample(-5);
  assert.equal(rtt.samples, 202, 'nonsense samples are ignored');
});

test('RPC over a lossy simulated link: retransmissions with backoff recover, RTT is learned, timeouts are typed', async (t) => {
  const mesh = await createSimMesh({ seed: 3, link: { latencyMs: 20, jitterMs: 0, loss: 0.3 } });
  t.after(() => mesh.stop());
  const a = await mesh.addNode();
  const b = await mesh.addNode({ bootstrap: [] });
  let answered = 0;
  for (let i = 0; i < 40; i++) {
    try {
      await mesh.drive(a.ping(b.address, { timeoutMs: 8000 }));
      answered++;
    } catch (error) {
      assert.equal((error as { code: string }).code, 'ERR_TIMEOUT');
    }
  }
  const stats = a.stats();
  // With 30% loss each way a single attempt succeeds ~49% of the time; three attempts lift that to ~87%.
  assert.ok(answered >= 28, `answered ${answered}/40`);
  assert.ok(stats.rpc.retransmits > 0, 'lost requests were retransmitted');
  const rtt = a.peers().find((peer) => peer.id === b.idHex)?.rttMs;
  assert.ok(rtt !== undefined && rtt >= 39 && rtt < 200, `learned RTT ${rtt}`);

  // A peer that is gone: the request gives up after its attempts with ERR_TIMEOUT, in bounded virtual time.
  await b.stop();
  const started = mesh.clock.now();
  await assert.rejects(mesh.drive(a.ping(b.address, { timeoutMs: 3000 })), { code: 'ERR_TIMEOUT' });
  assert.ok(mesh.clock.now() - started <= 3100);
});
