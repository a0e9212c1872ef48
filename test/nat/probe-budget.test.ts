import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HolePunchOptions } from '../../src/nat/holepunch.js';
import { PROBE_SIZE } from '../../src/nat/holepunch-probe.js';
import { ProbeBudget } from '../../src/nat/probe-budget.js';
import { PACKET_RELAYED } from '../../src/wire/constants.js';
import type { Address } from '../../src/util/address.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';
import { SimWorld } from './sim-world.js';
import { NodeWorld, type ConnectOutcome, type NatKind } from './node-world.js';

/** Takes from `budget` towards `address` until it says no (at most `max` times); returns how many it allowed. */
function drain(budget: ProbeBudget, address: Address, max = 1000): number {
  let allowed = 0;
  while (allowed < max && budget.take(address)) allowed++;
  return allowed;
}

describe('ProbeBudget', () => {
  const a = { host: '127.0.0.1', port: 4000 };
  const b = { host: '127.0.0.1', port: 4001 };

  test('a burst, then refills at perSecond', () => {
    const clock = new VirtualClock();
    const budget = new ProbeBudget(clock, { burst: 5, perSecond: 2 });
    assert.equal(drain(budget, a), 5);
    assert.equal(budget.take(a), false);
    clock.advance(499);
    assert.equal(budget.take(a), false, 'less than one token regained');
    clock.advance(1);
    assert.equal(budget.take(a), true, 'one token after 500 ms at 2/s');
    assert.equal(budget.take(a), false);
    clock.advance(60_000);
    assert.equal(drain(budget, a), 5, 'refills up to the burst, never beyond');
  });

  test('defaults: 20 at once, 2 per second', () => {
    const clock = new VirtualClock();
    const budget = new ProbeBudget(clock);
    assert.equal(drain(budget, a), 20);
    clock.advance(1000);
    assert.equal(drain(budget, a), 2);
  });

  test('per address: one exhausted target leaves the others whole', () => {
    const clock = new VirtualClock();
    const budget = new ProbeBudget(clock, { burst: 3, perSecond: 1 });
    assert.equal(drain(budget, a), 3);
    assert.equal(drain(budget, b), 3);
    assert.equal(drain(budget, { host: '127.0.0.2', port: 4000 }), 3, 'same port, other host');
    assert.equal(budget.take(a), false);
  });

  test('memory is bounded by maxTargets', () => {
    const clock = new VirtualClock();
    const budget = new ProbeBudget(clock, { burst: 2, perSecond: 0, maxTargets: 8 });
    for (let port = 1; port <= 100; port++) budget.take({ host: '127.0.0.1', port });
    assert.equal(budget.size, 8);
    // The most recent targets are remembered (and spent); the oldest were forgotten.
    assert.equal(drain(budget, { host: '127.0.0.1', port: 100 }), 1);
    assert.equal(budget.size, 8);
  });

  test('takeUpTo grants what is left, at most the count asked', () => {
    const clock = new VirtualClock();
    const budget = new ProbeBudget(clock, { burst: 10, perSecond: 0 });
    assert.equal(budget.takeUpTo(a, 4), 4);
    assert.equal(budget.takeUpTo(a, 100), 6);
    assert.equal(budget.takeUpTo(a, 1), 0);
    assert.equal(budget.takeUpTo(b, 0), 0, 'nothing asked, nothing spent');
    assert.equal(budget.takeUpTo(b, Number.NaN), 0);
    assert.equal(budget.takeUpTo(b, 10), 10);
  });

  test("per: 'host' shares one bucket among a host's ports", () => {
    const clock = new VirtualClock();
    const budget = new ProbeBudget(clock, { burst: 3, perSecond: 0, per: 'host' });
    assert.equal(budget.take(a), true);
    assert.equal(budget.take(b), true);
    assert.equal(budget.take({ host: a.host, port: 9999 }), true);
    assert.equal(budget.take(a), false, 'three ports of one host spent its bucket');
    assert.equal(budget.take({ host: '127.0.0.2', port: 4000 }), true, 'another host');
  });

  test('bad options throw ERR_INVALID_ARGUMENT', () => {
    const clock = new VirtualClock();
    for (const options of [
      { burst: 0 },
      { burst: Number.NaN },
      { perSecond: -1 },
      { perSecond: Infinity },
      { maxTargets: 0 },
      { maxTargets: 1.5 },
      { per: 'port' as 'host' },
    ]) {
      assert.throws(() => new ProbeBudget(clock, options), { code: 'ERR_INVALID_ARGUMENT' }, JSON.stringify(options));
    }
  });
});

/**
 * An initiator node, published addresses that belong to bystanders (counting the probes
 * they receive), and a punch target that never answers the rendezvous.
 */
async function unansweredWorld(holepunch: HolePunchOptions) {
  const world = new SimWorld(7);
  const initiator = await world.addNode({ kind: 'none', nat: { holepunch } });
  const bystanders: { address: Address; probes: number }[] = [];
  for (let i = 0; i < 2; i++) {
    const sink = world.network.createTransport();
    const bystander = { address: await sink.bind(), probes: 0 };
    sink.onDatagram((data) => {
      if (data.length === PROBE_SIZE && data[0] === PACKET_RELAYED) bystander.probes++;
    });
    bystanders.push(bystander);
  }
  const silent = world.network.createTransport();
  const silentAddress = await silent.bind();
  const peer = { id: new Uint8Array(32).fill(9), address: silentAddress };
  const punch = () => {
    const result = initiator.nat.puncher.punch(peer, { known: bystanders.map((s) => s.address) });
    result.catch(() => {});
    return result;
  };
  return { world, initiator, bystanders, punch };
}

describe('early probes before the rendezvous answer', () => {
  test('an unanswered initiator sends earlyProbeRounds probes per published address, then stops', async () => {
    const { world, initiator, bystanders, punch } = await unansweredWorld({ earlyProbeRounds: 10 });
    try {
      const attempt = punch();
      await world.clock.run(1000);
      for (const bystander of bystanders) assert.equal(bystander.probes, 10, 'the early window, no more');
      await assert.rejects(world.settle(attempt), { code: 'ERR_UNREACHABLE' });
      await world.clock.run(10_000);
      for (const bystander of bystanders) assert.equal(bystander.probes, 10, 'nothing after the window, nor after the failure');
      assert.equal(initiator.nat.puncher.probesSuppressed, 0, 'one attempt stays within the default budget');
      assert.equal(initiator.nat.puncher.active, 0, 'the attempt was released');
    } finally {
      await world.close();
    }
  });

  test('earlyProbeRounds 0 sends nothing before the answer', async () => {
    const { world, bystanders, punch } = await unansweredWorld({ earlyProbeRounds: 0 });
    try {
      await assert.rejects(world.settle(punch()), { code: 'ERR_UNREACHABLE' });
      for (const bystander of bystanders) assert.equal(bystander.probes, 0);
    } finally {
      await world.close();
    }
  });

  test('back-to-back attempts to the same published addresses stay within the per-target budget', async () => {
    // 15 early rounds per attempt: two attempts want 30 probes per address; the default budget allows 20 at once, 2/s after.
    const rounds = 15;
    const { world, initiator, bystanders, punch } = await unansweredWorld({ earlyProbeRounds: rounds, probeIntervalMs: 50 });
    try {
      const first = punch();
      const second = punch();
      await world.clock.run(2000);
      const windowSeconds = (rounds * 50) / 1000;
      for (const bystander of bystanders) {
        assert.ok(bystander.probes <= 20 + Math.floor(2 * windowSeconds), `${bystander.probes} probes: within burst + refill`);
        assert.ok(bystander.probes >= 20, `${bystander.probes} probes: the burst is usable`);
      }
      const received = bystanders.reduce((sum, s) => sum + s.probes, 0);
      assert.equal(initiator.nat.puncher.probesSuppressed, 2 * rounds * bystanders.length - received, 'every probe held back is counted');
      await assert.rejects(world.settle(first), { code: 'ERR_UNREACHABLE' });
      await assert.rejects(world.settle(second), { code: 'ERR_UNREACHABLE' });
    } finally {
      await world.close();
    }
  });
});

/**
 * `connect()` between two whole MccNodes behind `kind` NATs (the product pipeline: relayed
 * tunnel, hole punch riding the circuit's set-up, then the move); `holepunch` tunes the client.
 */
async function connect(kind: NatKind, holepunch: HolePunchOptions, latencyMs: number): Promise<ConnectOutcome & { suppressed: number }> {
  const world = new NodeWorld(31, latencyMs);
  try {
    await world.addInfrastructure();
    const client = await world.addNode(kind, { nat: { tuning: { holepunch } } });
    const provider = await world.addNode(kind);
    await world.drive(provider.register('echo', { handler: (stream) => stream.pipe(stream) }));
    const outcome = await world.connect(client, provider, 'echo');
    assert.equal(await world.roundTrip(outcome.stream, 'hello'), 'hello');
    outcome.stream.destroy();
    return { ...outcome, suppressed: client.nat.service.puncher.probesSuppressed };
  } finally {
    await world.close();
  }
}

describe('connect(): punching after the early window', () => {
  test('an answer after the window resumes probing: port-restricted pair, no early probes at all', async () => {
    // Without early probes the client's NAT stays closed towards the provider until the
    // answer; only the probing that configure() resumes can let the provider's probes in.
    const result = await connect('port-restricted', { earlyProbeRounds: 0 }, 25);
    assert.equal(result.path, 'punched');
    assert.equal(result.clientPunch?.probesSuppressed, 0);
    assert.equal(result.suppressed, 0);
  });

  test('a slow rendezvous (answer after ~600 ms, past the 500 ms window) still punches', async () => {
    const result = await connect('port-restricted', {}, 150);
    assert.equal(result.path, 'punched');
    assert.ok(result.providerPunch, 'both ends moved');
  });
});
