import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestBudget } from '../../src/session/request-budget.js';
import { subnetGroup } from '../../src/kademlia/subnet.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';
import { createSimMesh } from '../helpers/sim-mesh.js';

const at = (host: string, port: number) => ({ host, port });

test('an address gets its burst, then its rate; refusals are counted by bucket', () => {
  const clock = new VirtualClock(0);
  const budget = new RequestBudget(clock, { perAddress: { ratePerSecond: 100, burst: 20 } });
  const source = at('203.0.113.5', 4000);
  let admitted = 0;
  for (let i = 0; i < 50; i++) if (budget.admit(source) === undefined) admitted++;
  assert.equal(admitted, 20, 'the burst, no more');
  assert.equal(budget.limited.address, 30);
  // 100 ms at 100/s refills 10 tokens.
  clock.advance(100);
  admitted = 0;
  for (let i = 0; i < 50; i++) if (budget.admit(source) === undefined) admitted++;
  assert.equal(admitted, 10);
  // A full second refills at most the burst, never more.
  clock.advance(10_000);
  admitted = 0;
  for (let i = 0; i < 50; i++) if (budget.admit(source) === undefined) admitted++;
  assert.equal(admitted, 20);
  // Another address of the same host has its own bucket.
  assert.equal(budget.admit(at('203.0.113.5', 4001)), undefined);
});

test('ports of one /24 share the network bucket; other networks and loopback do not', () => {
  const clock = new VirtualClock(0);
  const budget = new RequestBudget(clock, {
    perAddress: { ratePerSecond: 10, burst: 10 },
    perNetwork: { ratePerSecond: 50, burst: 50 },
    networkOf: subnetGroup,
  });
  let admitted = 0;
  // 100 ports x 10 requests from one /24: 1,000 asked, the network's 50 admitted.
  for (let port = 1; port <= 100; port++) for (let i = 0; i < 10; i++) if (budget.admit(at(`198.51.100.${port % 200}`, port)) === undefined) admitted++;
  assert.equal(admitted, 50);
  assert.equal(budget.limited.network, 950);
  assert.equal(budget.admit(at('198.51.101.1', 1)), undefined, 'the next /24 is untouched');
  // Loopback sources have no network bucket (many local nodes share 127.0.0.1): each port its own burst.
  admitted = 0;
  for (let port = 1; port <= 100; port++) for (let i = 0; i < 10; i++) if (budget.admit(at('127.0.0.1', port)) === undefined) admitted++;
  assert.equal(admitted, 1000);
  // IPv6: a /48 shares one bucket.
  admitted = 0;
  for (let i = 0; i < 100; i++) if (budget.admit(at(`2001:db8:1:${i.toString(16)}::1`, 7)) === undefined) admitted++;
  assert.equal(admitted, 50);
});

test('a request one bucket refuses spends nothing from the other', () => {
  const clock = new VirtualClock(0);
  const budget = new RequestBudget(clock, {
    perAddress: { ratePerSecond: 1, burst: 5 },
    perNetwork: { ratePerSecond: 1, burst: 10 },
    networkOf: subnetGroup,
  });
  const noisy = at('192.0.2.1', 1);
  for (let i = 0; i < 1000; i++) budget.admit(noisy);
  assert.equal(budget.limited.address, 995);
  // The noisy address spent 5 of its network's 10: a neighbour still gets the other 5.
  let admitted = 0;
  for (let i = 0; i < 20; i++) if (budget.admit(at('192.0.2.2', 1)) === undefined) admitted++;
  assert.equal(admitted, 5);
});

test('the tables are bounded (LRU): a flood of distinct sources never grows them past the limits', () => {
  const clock = new VirtualClock(0);
  const budget = new RequestBudget(clock, { maxAddresses: 1000, maxNetworks: 100, networkOf: subnetGroup });
  for (let i = 0; i < 50_000; i++) {
    budget.admit(at(`${20 + (i % 200)}.${(i >> 8) & 255}.${i & 255}.1`, 1 + (i % 60_000)));
    clock.advance(1);
  }
  assert.deepEqual(budget.tracked, { addresses: 1000, networks: 100 });
});

test('a clock that steps back refills nothing and drains nothing', () => {
  let now = 10_000;
  const clock = { now: () => now, setTimeout: () => 0 as never, clearTimeout: () => {} };
  const budget = new RequestBudget(clock, { perAddress: { ratePerSecond: 1000, burst: 3 } });
  const source = at('203.0.113.9', 1);
  for (let i = 0; i < 2; i++) assert.equal(budget.admit(source), undefined);
  now = 0;
  assert.equal(budget.admit(source), undefined, 'the token left before the step is still there');
  assert.equal(budget.admit(source), 'address', 'and nothing was refilled');
  now = 2; // 2 ms after the step back (the bucket's time stayed at 10,000): still nothing
  assert.equal(budget.admit(source), 'address');
  now = 10_002; // 2 ms past the bucket's own time: 2 tokens at 1,000/s
  assert.equal(budget.admit(source), undefined);
});

test('shouldShed: an address that spent its bucket is shed until it refills; nothing is looked up while nobody was refused', () => {
  const clock = new VirtualClock(0);
  const budget = new RequestBudget(clock, { perAddress: { ratePerSecond: 10, burst: 5 } });
  const noisy = at('203.0.113.1', 1);
  const quiet = at('203.0.113.2', 1);
  for (let i = 0; i < 5; i++) assert.equal(budget.admit(noisy), undefined);
  assert.equal(budget.shouldShed(noisy), false, 'spent, but nobody was refused yet');
  assert.equal(budget.admit(noisy), 'address');
  assert.equal(budget.shouldShed(noisy), true);
  assert.equal(budget.shouldShed(quiet), false, 'an address it never saw');
  budget.admit(quiet);
  assert.equal(budget.shouldShed(quiet), false);
  clock.advance(100); // one token back at 10/s
  assert.equal(budget.shouldShed(noisy), false);
  assert.equal(budget.admit(noisy), undefined);
  assert.equal(budget.shouldShed(noisy), true);
  clock.advance(1001); // the refusal is more than a second old: no lookups at all
  assert.equal(budget.shouldShed(noisy), false);
});

test('bad limits are ERR_INVALID_ARGUMENT naming the option', () => {
  const clock = new VirtualClock(0);
  assert.throws(() => new RequestBudget(clock, { perAddress: { ratePerSecond: 0, burst: 1 } }), { code: 'ERR_INVALID_ARGUMENT', message: /perAddress/ });
  assert.throws(() => new RequestBudget(clock, { perNetwork: { ratePerSecond: 1, burst: Number.NaN } }), {
    code: 'ERR_INVALID_ARGUMENT',
    message: /perNetwork/,
  });
  assert.throws(() => new RequestBudget(clock, { maxAddresses: 0 }), { code: 'ERR_INVALID_ARGUMENT', message: /maxAddresses/ });
});

test('a node drops requests over its budget unanswered, counts them, and keeps answering other peers', async (t) => {
  const mesh = await createSimMesh({ link: { latencyMs: 5, jitterMs: 0 } });
  t.after(() => mesh.stop());
  const server = await mesh.addNode({ requestBudget: { perAddress: { ratePerSecond: 10, burst: 20 } } });
  const noisy = await mesh.addNode();
  const quiet = await mesh.addNode();
  const before = server.stats();
  const target = { id: server.id, address: server.address };
  // 200 pings at once: the burst (less what joining spent) is answered, the rest time out unanswered.
  const outcomes = await mesh.drive(
    Promise.allSettled(Array.from({ length: 200 }, () => noisy.rpc.request(target, { ping: {} }, { retries: 0, timeoutMs: 1000 }))),
  );
  const answered = outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
  assert.ok(answered <= 20 && answered > 0, `${answered} of 200 answered`);
  const after = server.stats();
  const limited = after.rateLimited.requestAddress - before.rateLimited.requestAddress;
  assert.equal(limited, 200 - answered, 'every unanswered ping was refused by the address budget');
  assert.equal(after.dropped['rate-limited'] - before.dropped['rate-limited'], limited, 'and counted as a rate-limited drop');
  // Another peer is untouched, and the noisy one recovers at the budget's rate.
  await mesh.drive(quiet.rpc.request(target, { ping: {} }));
  await mesh.drive(new Promise<void>((resolve) => mesh.clock.setTimeout(() => resolve(), 1000)));
  await mesh.drive(noisy.rpc.request(target, { ping: {} }));
});

test('requestBudget: false turns the budget off; a malformed option is refused', async (t) => {
  const mesh = await createSimMesh({ link: { latencyMs: 5, jitterMs: 0 } });
  t.after(() => mesh.stop());
  const server = await mesh.addNode({ requestBudget: false });
  const client = await mesh.addNode();
  const target = { id: server.id, address: server.address };
  const outcomes = await mesh.drive(Promise.allSettled(Array.from({ length: 300 }, () => client.rpc.request(target, { ping: {} }, { timeoutMs: 5000 }))));
  assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 300);
  assert.equal(server.stats().rateLimited.requestAddress, 0);
  await assert.rejects(
    mesh.addNode({ requestBudget: 'off' as unknown as false }),
    (error: Error & { code?: string }) => error.code === 'ERR_INVALID_ARGUMENT' && /requestBudget/.test(error.message),
  );
});
