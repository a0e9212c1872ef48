import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MccNode } from '../../src/index.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('stop() while a background withdrawal retry is in flight leaves no timer behind (real nodes, partitioned)', async () => {
  const b = await MccNode.create({ host: '127.0.0.1' });
  await b.start();
  const a = await MccNode.create({ host: '127.0.0.1', bootstrap: [b.address], requestTimeoutMs: 800 });
  await a.start();
  const internals = a as unknown as { clock: { pending: number }; discovery: { registrations: Map<string, { inflight?: unknown }> } };
  await a.register('web', { port: 8080 });
  const registration = internals.discovery.registrations.get('web')!;
  await b.stop(); // a partition: a still holds b, which no longer answers
  await a.unregister('web'); // reaches only a itself: the withdrawal is retried in the background
  for (let i = 0; i < 2500 && registration.inflight === undefined; i++) await sleep(2);
  assert.ok(registration.inflight !== undefined, 'the background retry is in flight');
  await a.stop();
  assert.equal(internals.clock.pending, 0, 'no timer right after stop()');
  // Wait for the in-flight put to settle (its `finally` clears `inflight`), then for what its
  // settling may schedule: an event, not a guessed sleep.
  for (let i = 0; i < 1500 && registration.inflight !== undefined; i++) await sleep(2);
  assert.equal(registration.inflight, undefined, 'the in-flight put settled after stop()');
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(internals.clock.pending, 0, 'and none scheduled by the put that settled after stop()');
});
