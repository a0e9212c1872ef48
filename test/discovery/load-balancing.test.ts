/** Load-balancing strategies and failover with per-provider back-off (pure logic). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BalancerState, Failover, checkStrategy, pickProviders, type Provider } from '../../src/discovery/index.js';
import { MccError } from '../../src/errors.js';
import { seededRandom } from '../../src/kademlia/in-memory-network.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';

function provider(n: number, rttMs?: number): Provider {
  const nodeId = new Uint8Array(32).fill(n);
  const p: Provider = {
    nodeId,
    id: Buffer.from(nodeId).toString('hex'),
    addresses: [],
    relays: [],
    metadata: undefined,
    seq: 1,
    expiresAt: 0,
    record: { key: new Uint8Array(32), author: nodeId, seq: 1, expiresAt: 0, value: new Uint8Array(0), signature: new Uint8Array(0) },
  };
  if (rttMs !== undefined) p.rttMs = rttMs;
  return p;
}

const five = [3, 1, 4, 5, 2].map((n) => provider(n));
const names = (list: Provider[]) => list.map((p) => p.nodeId[0]);

test('random is a permutation and spreads first choices', () => {
  const random = seededRandom(9);
  const firsts = new Map<number, number>();
  for (let i = 0; i < 1000; i++) {
    const order = pickProviders(five, 'random', { random });
    assert.deepEqual([...names(order)].sort(), [1, 2, 3, 4, 5]);
    firsts.set(order[0].nodeId[0], (firsts.get(order[0].nodeId[0]) ?? 0) + 1);
  }
  for (const count of firsts.values()) assert.ok(count > 120 && count < 280, `first-choice share ${count}/1000`);
});

test('round-robin rotates through providers per service', () => {
  const state = new BalancerState();
  const firsts = [0, 1, 2, 3, 4, 5].map(() => names(pickProviders(five, 'round-robin', { state, service: 'a' }))[0]);
  assert.deepEqual(firsts, [1, 2, 3, 4, 5, 1]);
  assert.equal(names(pickProviders(five, 'round-robin', { state, service: 'b' }))[0], 1, 'cursors are per service');
  assert.deepEqual(names(pickProviders(five, 'round-robin', { state, service: 'a' })), [2, 3, 4, 5, 1]);
});

test('least-latency orders by measured RTT, unmeasured last', () => {
  const list = [provider(1, 40), provider(2), provider(3, 5), provider(4, 12)];
  assert.deepEqual(names(pickProviders(list, 'least-latency', { random: seededRandom(1) })), [3, 4, 1, 2]);
});

test('a user function decides, restricted to known providers without duplicates', () => {
  const stranger = provider(99);
  const order = pickProviders(five, (list) => [list[4], stranger, list[4], list[0]], { service: 'x' });
  assert.deepEqual(names(order), [2, 3]);
  assert.throws(
    () => checkStrategy('fastest'),
    (e: unknown) => e instanceof MccError && e.details?.argument === 'strategy',
  );
  assert.equal(checkStrategy('round-robin'), 'round-robin');
});

test('failover skips backed-off providers, tries the next, and gives up after maxAttempts', async () => {
  const clock = new VirtualClock();
  const failover = new Failover({ clock, baseBackoffMs: 1_000, maxBackoffMs: 8_000 });
  const down = new Set([1, 2]);
  const tried: number[] = [];
  const attempt = async (p: Provider) => {
    tried.push(p.nodeId[0]);
    if (down.has(p.nodeId[0])) throw new Error('refused');
    return p.nodeId[0];
  };
  const first = await failover.run(five, attempt, { strategy: 'round-robin', service: 's', maxAttempts: 3 });
  assert.deepEqual(tried, [1, 2, 3]);
  assert.equal(first.result, 3);
  assert.ok(failover.isBackedOff(five[4].id) && failover.isBackedOff(five[1].id));
  // Round-robin would start at 2 now; 1 and 2 are backed off and go last.
  tried.length = 0;
  await failover.run(five, attempt, { strategy: 'round-robin', service: 's' });
  assert.deepEqual(tried, [3]);
  // The back-off doubles per failure and ends.
  clock.advance(1_001);
  assert.ok(!failover.isBackedOff(five[4].id));
  down.clear();
  down.add(3).add(4).add(5).add(1).add(2);
  tried.length = 0;
  await assert.rejects(
    failover.run(five, attempt, { strategy: 'round-robin', service: 's', maxAttempts: 2 }),
    (e: unknown) => e instanceof MccError && e.code === 'ERR_UNREACHABLE' && e.cause instanceof AggregateError && e.cause.errors.length === 2,
  );
  assert.equal(tried.length, 2);
  // Backed-off providers are still tried (last, soonest-recovering first) rather than refused.
  tried.length = 0;
  down.clear();
  const last = await failover.run(five, attempt, { strategy: 'random', maxAttempts: 1 });
  assert.equal(tried.length, 1);
  assert.ok(!failover.isBackedOff(last.provider.id), 'a success clears the back-off');
  await assert.rejects(failover.run([], attempt), (e: unknown) => e instanceof MccError && e.code === 'ERR_NOT_FOUND');
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(failover.run(five, attempt, { signal: controller.signal }), (e: unknown) => e instanceof MccError && e.code === 'ERR_ABORTED');
});

test('failover staggers: a silent provider costs one stagger, the first answer wins, the rest are aborted or discarded', async () => {
  const clock = new VirtualClock();
  const failover = new Failover({ clock });
  const started: Array<[number, number]> = [];
  const aborted: number[] = [];
  const discarded: unknown[] = [];
  // Provider 1 never answers (until aborted); 2 answers after 30 ms; 3 after 5 ms but is started last.
  const delays = new Map([
    [2, 30],
    [3, 5],
  ]);
  const attempt = (p: Provider, signal: AbortSignal): Promise<number> =>
    new Promise((resolve, reject) => {
      const id = p.nodeId[0];
      started.push([id, clock.now()]);
      let answered = false;
      signal.addEventListener('abort', () => {
        if (answered) return;
        aborted.push(id);
        reject(new Error('aborted'));
      });
      const delay = delays.get(id);
      if (delay !== undefined)
        clock.setTimeout(() => {
          answered = true;
          resolve(id);
        }, delay);
    });
  const run = failover.run(
    [1, 2, 3].map((n) => provider(n)),
    attempt,
    { strategy: (providers) => providers, service: 'stagger', staggerMs: () => 100, discard: (result) => discarded.push(result) },
  );
  await clock.run(1_000);
  const { result } = await run;
  assert.deepEqual(
    started,
    [
      [1, 0],
      [2, 100],
    ],
    'the second provider started one stagger after the first, the third never',
  );
  assert.equal(result, 2);
  assert.deepEqual(aborted, [1], 'the silent attempt was aborted once another answered');
  assert.deepEqual(discarded, []);
  assert.equal(failover.isBackedOff(provider(1).id), false, 'an attempt aborted because another won is no failure');
});
