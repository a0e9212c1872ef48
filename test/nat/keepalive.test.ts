import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KeepaliveLearner } from '../../src/nat/keepalive.js';
import { SimWorld } from './sim-world.js';

/** Runs the learner against a NAT that forgets after `timeoutMs`; returns the interval and the tests used. */
function learnAgainst(timeoutMs: number): { interval: number; tests: number } {
  const learner = new KeepaliveLearner();
  let tests = 0;
  for (let idle = learner.nextTest(); idle !== undefined; idle = learner.nextTest()) {
    tests++;
    learner.record(idle, idle < timeoutMs);
  }
  return { interval: learner.intervalMs, tests };
}

describe('KeepaliveLearner', () => {
  for (const timeout of [20_000, 30_000, 45_000, 90_000, 600_000]) {
    test(`NAT timeout ${timeout / 1000} s: interval below it, bounded tests`, () => {
      const { interval, tests } = learnAgainst(timeout);
      assert.ok(tests <= 8, `${tests} tests`);
      assert.ok(interval < timeout, `interval ${interval}`);
      assert.ok(interval >= Math.min(120_000, timeout) * 0.5, `interval ${interval} too cautious`);
      assert.ok(interval <= 120_000);
    });
  }

  test('a NAT shorter than the start interval pulls it down; a dead mapping halves it', () => {
    const { interval } = learnAgainst(8000);
    assert.ok(interval < 8000 && interval >= 5000, `interval ${interval}`);
    const learner = new KeepaliveLearner();
    learner.record(30_000, true);
    assert.equal(learner.intervalMs, 24_000);
    learner.mappingDead();
    assert.equal(learner.intervalMs, 12_000);
    assert.ok(learner.bracket.deadMs <= 24_000);
    learner.reset();
    assert.equal(learner.intervalMs, 15_000);
  });
});

describe('keep-alives on the simulated network', () => {
  /** A client behind a port-restricted NAT (40 s mapping timeout) reserving with one relay whose reservation refresh alone is too rare. */
  async function run(learnAndKeepalive: boolean) {
    const world = new SimWorld(31);
    const infra = await world.addInfrastructure(4);
    const relay = infra[0];
    const client = await world.addNode({
      kind: 'port-restricted',
      natOptions: { mappingTimeoutMs: 40_000 },
      nat: { relayClient: { minRelays: 1 }, relayCandidates: () => [relay.peer], keepalive: { learn: learnAndKeepalive } },
    });
    client.nat.start();
    await world.settle(client.nat.monitor.check());
    await world.clock.run(1000);
    assert.equal(client.nat.state.reachable, false);
    assert.equal(client.nat.relayClient.relays.length, 1);
    if (!learnAndKeepalive) client.nat.keepalive.stop();
    await world.clock.run(13 * 60_000); // reservation refreshes and re-checks last ran ~3 min ago
    const initiator = await world.addNode({ kind: 'none' });
    const outcome = await world.settle(
      initiator.nat.relayClient.connect(relay.peer, client.id).then(
        () => 'connected',
        () => 'failed',
      ),
    );
    return { world, client, outcome };
  }

  test('learnt keep-alives hold the relay mapping open past the NAT timeout', async () => {
    const { world, client, outcome } = await run(true);
    try {
      const interval = client.nat.keepalive.learner.intervalMs;
      assert.ok(interval < 40_000 && interval >= 20_000, `learnt interval ${interval}`);
      assert.ok(client.nat.keepalive.sent > 10);
      assert.equal(outcome, 'connected');
    } finally {
      await world.close();
    }
  });

  test('without keep-alives the mapping expires between reservation refreshes', async () => {
    const { world, outcome } = await run(false);
    try {
      assert.equal(outcome, 'failed');
    } finally {
      await world.close();
    }
  });
});
