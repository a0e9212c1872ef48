/**
 * What one node's hole punches may send to addresses nobody confirmed (holepunch-guard.ts):
 * the PunchGuard itself, the HolePuncher against a hostile peer, and the product's connect
 * pipeline (whole MccNodes calling `connect()` on the simulated network) against a hostile
 * provider and between honest ones.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BULK_REFILL_MS, PunchGuard } from '../../src/nat/holepunch-guard.js';
import type { HolePunchOptions } from '../../src/nat/holepunch.js';
import { PROBE_SIZE } from '../../src/nat/holepunch-probe.js';
import type { RelayedConnection } from '../../src/nat/relay-client.js';
import type { RequestHandler } from '../../src/session/rpc.js';
import type { Address } from '../../src/util/address.js';
import { bytesToHex } from '../../src/util/bytes.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';
import { toSocketAddress } from '../../src/wire/address.js';
import { PACKET_RELAYED } from '../../src/wire/constants.js';
import { SimWorld } from './sim-world.js';
import { NodeWorld, addressKey, type NatKind } from './node-world.js';

const isProbe = (data: Uint8Array): boolean => data.length === PROBE_SIZE && data[0] === PACKET_RELAYED;

describe('PunchGuard', () => {
  const a = { host: '127.0.0.1', port: 4000 };

  test('main probes: charged per address until the address proves itself, then free (for a while)', () => {
    const clock = new VirtualClock();
    const guard = new PunchGuard(clock, { burst: 3, perSecond: 0 }, 100);
    let allowed = 0;
    for (let i = 0; i < 10; i++) if (guard.mayProbe(a)) allowed++;
    assert.equal(allowed, 3, 'the per-address burst');
    guard.confirm(a);
    for (let i = 0; i < 10; i++) assert.equal(guard.mayProbe(a), true, 'a confirmed address is free');
    assert.equal(guard.mayProbe({ ...a, port: 4001 }), true, 'another port is another address, with its own budget');
    clock.advance(11 * 60_000);
    assert.equal(guard.isConfirmed(a), false, 'confirmations expire');
    assert.equal(guard.mayProbe(a), false, 'and the spent budget applies again');
  });

  test('bulk probes: one burst per host (any port), refilled over BULK_REFILL_MS; a vouched host is free', () => {
    const clock = new VirtualClock();
    const guard = new PunchGuard(clock, undefined, 100);
    assert.equal(guard.bulkProbes(a, 60, undefined), 60);
    assert.equal(guard.bulkProbes({ ...a, port: 9 }, 60, undefined), 40, 'same host, other port: the same bucket');
    assert.equal(guard.bulkProbes(a, 1, undefined), 0);
    assert.equal(guard.bulkProbes({ host: '127.0.0.2', port: 9 }, 100, undefined), 100, 'another host has its own');
    assert.equal(guard.bulkProbes(a, 500, a.host), 500, 'the host the relay observed the peer at is not charged');
    clock.advance(BULK_REFILL_MS / 2);
    assert.equal(guard.bulkProbes(a, 100, undefined), 50, 'half the burst after half the refill time');
  });

  test('relay observations are kept per peer and circuit', () => {
    const guard = new PunchGuard(new VirtualClock(), undefined, 100);
    const peer = new Uint8Array(32).fill(1);
    const virtual = { host: '0.0.0.1', port: 7 };
    guard.observe({ peer, address: virtual, peerObserved: { host: '127.0.0.9', port: 5000 } });
    assert.equal(guard.vouchedHost(bytesToHex(peer), virtual), '127.0.0.9');
    assert.equal(guard.vouchedHost(bytesToHex(new Uint8Array(32).fill(2)), virtual), undefined, 'another peer at a reused virtual address');
    guard.observe({ peer, address: { host: '0.0.0.1', port: 8 }, peerObserved: undefined });
    assert.equal(guard.vouchedHost(bytesToHex(peer), { host: '0.0.0.1', port: 8 }), undefined);
  });
});

type Answer = 'never' | 'at once' | 'random at a bystander';

/**
 * The reviewer's scenarios: a hostile provider whose record lists four bystanders. It never
 * answers the offer, answers at once with nothing of its own, or claims a random mapping at
 * the first bystander's address. One client punches to it `punches` times in a row.
 */
async function hostileProvider(answer: Answer, punches: number, holepunch: HolePunchOptions = {}) {
  const world = new SimWorld(7);
  try {
    const client = await world.addNode({ kind: 'none', nat: { holepunch } });
    const hostile = await world.addNode({ kind: 'none' });
    const bystanders: { address: Address; probes: number }[] = [];
    for (let i = 0; i < 4; i++) {
      const sink = world.network.createTransport();
      const bystander = { address: await sink.bind(), probes: 0 };
      sink.onDatagram((data) => {
        if (isProbe(data)) bystander.probes++;
      });
      bystanders.push(bystander);
    }
    // Spray probes go to random ports of a host: count what leaves the client per host.
    const toHost = new Map<string, number>();
    const send = client.sim.send.bind(client.sim);
    client.sim.send = (to: Address, data: Uint8Array) => {
      if (isProbe(data)) toHost.set(to.host, (toHost.get(to.host) ?? 0) + 1);
      send(to, data);
    };
    hostile.rpc.handle('holepunchOffer', (request) => {
      const offer = request.envelope.holepunchOffer!;
      if (answer === 'never') return new Promise(() => {}) as never;
      const addresses = answer === 'random at a bystander' ? [toSocketAddress(bystanders[0].address)] : [];
      return { holepunchOffer: { punchId: offer.punchId, punchKey: offer.punchKey, addresses, mapping: 3, reachable: false } };
    });
    const started = world.clock.now();
    for (let i = 0; i < punches; i++) {
      await assert.rejects(world.settle(client.nat.puncher.punch(hostile.peer, { known: bystanders.map((b) => b.address) })), { code: 'ERR_UNREACHABLE' });
    }
    await world.clock.run(5000); // nothing more after the failures
    const seconds = (world.clock.now() - started) / 1000;
    return { bystanders, toHost, seconds, suppressed: client.nat.puncher.probesSuppressed };
  } finally {
    await world.close();
  }
}

describe("a hostile provider cannot aim a client's probes at third parties, whatever it answers", () => {
  for (const answer of ['never', 'at once', 'random at a bystander'] as const) {
    test(`provider ${answer}: each bystander gets at most the per-address budget from one client`, async () => {
      // No refill: what a bystander gets is bounded by the burst alone.
      const { bystanders, toHost, seconds, suppressed } = await hostileProvider(answer, 3, { probeBudget: { burst: 20, perSecond: 0 } });
      for (const bystander of bystanders) {
        assert.ok(bystander.probes <= 20, `${bystander.probes} probes to one bystander over 3 punches`);
        assert.ok(bystander.probes >= 10, 'the early window is still used');
      }
      if (answer !== 'never') assert.ok(suppressed > 0, 'the budget held probes back');
      const host = bystanders[0].address.host;
      // Three sprays wanted (6,000 probes at that host): one spray's worth plus what the host's bulk budget regained meanwhile.
      const sprayBound = answer === 'random at a bystander' ? 2000 + Math.ceil((2000 * seconds * 1000) / BULK_REFILL_MS) : 0;
      assert.ok((toHost.get(host) ?? 0) <= 20 + sprayBound, `${toHost.get(host)} probes to the first bystander's host`);
    });
  }

  test('with the default budget (20, then 2/s) and the default spray (2,000 per host per 5 min)', async () => {
    const { bystanders, toHost, seconds } = await hostileProvider('random at a bystander', 2);
    for (const bystander of bystanders) assert.ok(bystander.probes <= 20 + 2 * seconds, `${bystander.probes} probes in ${seconds} s`);
    const host = bystanders[0].address.host;
    // Two sprays wanted (4,000 probes): one spray's worth plus the refill of the run.
    const bulkBound = 2000 + Math.ceil((2000 * seconds * 1000) / BULK_REFILL_MS);
    assert.ok((toHost.get(host) ?? 0) <= bulkBound + 20 + 2 * seconds, `${toHost.get(host)} probes to the sprayed host in ${seconds} s`);
    assert.ok((toHost.get(host) ?? 0) >= 2000, 'the first spray was whole');
  });
});

describe("a hostile initiator cannot aim a responder's spray at a third party when the relay vouches", () => {
  test('the responder sprays only the host the relay observed the initiator at', async () => {
    const world = new SimWorld(9);
    try {
      const responder = await world.addNode({ kind: 'none' });
      const hostile = await world.addNode({ kind: 'none' });
      const sink = world.network.createTransport();
      const bystander = await sink.bind();
      const toHost = new Map<string, number>();
      const send = responder.sim.send.bind(responder.sim);
      responder.sim.send = (to: Address, data: Uint8Array) => {
        if (isProbe(data)) toHost.set(to.host, (toHost.get(to.host) ?? 0) + 1);
        send(to, data);
      };
      // As for a circuit: the relay saw the initiator at its own address (here the "circuit" is the direct path).
      responder.nat.puncher.observe({ peer: hostile.id, address: hostile.address, peerObserved: hostile.address });
      const offer = {
        punchId: new Uint8Array(8).fill(4),
        punchKey: new Uint8Array(32).fill(5),
        addresses: [toSocketAddress(bystander)],
        mapping: 3,
        reachable: false,
      };
      await world.settle(hostile.rpc.request(responder.peer, { holepunchOffer: offer }));
      await world.clock.run(10_000);
      assert.ok((toHost.get(bystander.host) ?? 0) <= 20 + 2 * 10, `${toHost.get(bystander.host)} probes to the bystander's host: main probes only`);
      assert.ok((toHost.get(hostile.address.host) ?? 0) >= 1000, 'the spray went to the vouched host');
      assert.equal(responder.nat.puncher.guard.bulkProbes(hostile.address, 2000, undefined), 2000, 'a vouched spray costs no bulk budget');
    } finally {
      await world.close();
    }
  });
});

type HostileAnswer = Answer;

/** How a hostile provider answers a punch offer (its own handler replaces the HolePuncher's). */
function hostileAnswer(answer: HostileAnswer, bystander: Address): RequestHandler {
  return (request) => {
    const offer = request.envelope.holepunchOffer!;
    if (answer === 'never') return new Promise(() => {}) as never;
    const addresses = answer === 'random at a bystander' ? [toSocketAddress(bystander)] : [];
    return { holepunchOffer: { punchId: offer.punchId, punchKey: offer.punchKey, addresses, mapping: 3, reachable: false } };
  };
}

/** Time a connect's punches may take: the first attempt, and the retries 30 s and 60 s after a failure (src/node/nat-paths.ts). */
const PUNCH_RETRIES_MS = 110_000;

/**
 * The product path against a hostile provider: a whole MccNode behind a port-restricted NAT
 * whose provider record lists four bystanders (and its relays, so clients reach it through
 * one and punch), answering offers as `answer` says. One client (port-restricted: it probes
 * the record's addresses, and sprays when told the provider's mapping is random) calls
 * `connect()`, uses the stream, and keeps the connection while the node retries its punch.
 */
async function hostileProviderConnect(answer: HostileAnswer, holepunch: HolePunchOptions = {}) {
  const world = new NodeWorld(17);
  try {
    await world.addInfrastructure();
    const client = await world.addNode('port-restricted', { nat: { tuning: { holepunch } } });
    const hostile = await world.addNode('port-restricted');
    const bystanders: Address[] = [];
    for (let i = 0; i < 4; i++) bystanders.push(await world.network.createTransport().bind());
    const real = hostile.nat.selfInfo.bind(hostile.nat);
    hostile.nat.selfInfo = (fallback) => ({ ...real(fallback), addresses: bystanders });
    hostile.rpc.handle('holepunchOffer', hostileAnswer(answer, bystanders[0]));
    await world.drive(hostile.register('hostile', { handler: (stream) => stream.pipe(stream) }));
    const probes = world.countProbes();
    const started = world.clock.now();
    const stream = await world.drive(client.connect('hostile'));
    assert.equal(await world.roundTrip(stream, 'hello'), 'hello', 'the relayed tunnel works whatever the punch does');
    await world.clock.run(PUNCH_RETRIES_MS);
    probes.stop();
    const connects = client.stats().nat.connects;
    stream.destroy();
    return {
      perBystander: bystanders.map((address) => probes.toAddress.get(addressKey(address)) ?? 0),
      toSprayedHost: probes.toHost.get(bystanders[0].host) ?? 0,
      seconds: (world.clock.now() - started) / 1000,
      suppressed: client.nat.service.puncher.probesSuppressed,
      connects,
    };
  } finally {
    await world.close();
  }
}

describe("connect() to a hostile provider: its record and answers cannot aim the client's probes at third parties", () => {
  for (const answer of ['never', 'at once', 'random at a bystander'] as const) {
    test(`provider answers ${answer}: over a connect and its punch retries, each bystander gets at most the per-address burst`, async () => {
      // No refill: whatever the retries, a bystander's bound is the burst alone.
      const { perBystander, toSprayedHost, seconds, suppressed, connects } = await hostileProviderConnect(answer, { probeBudget: { burst: 20, perSecond: 0 } });
      assert.equal(connects.relayed, 1, 'the connect went through the relay');
      assert.equal(connects.punched, 0, 'no punch moved it (the bystanders are not the provider)');
      assert.equal(connects.punchFailed, 3, 'the first punch and both retries ran, and failed');
      for (const [i, probes] of perBystander.entries()) {
        assert.ok(probes >= 10, `${probes} probes: the early window is still used`);
        // A spray at the first bystander's host may hit its very port by chance (2,000+ random ports): its host bound covers it.
        if (i > 0 || answer !== 'random at a bystander') assert.ok(probes <= 20, `${probes} probes to one bystander`);
      }
      assert.ok(suppressed > 0, 'the budget held probes back');
      // Three sprays wanted (6,000 probes at that host): one spray's worth plus what the host's bulk budget regained meanwhile.
      const sprayBound = answer === 'random at a bystander' ? 2000 + Math.ceil((2000 * seconds * 1000) / BULK_REFILL_MS) : 0;
      assert.ok(toSprayedHost <= 20 + sprayBound, `${toSprayedHost} probes to the first bystander's host`);
      if (answer === 'random at a bystander') assert.ok(toSprayedHost >= 2000, 'the first spray was whole');
    });
  }

  test('with the default budgets (20, then 2/s per address; 2,000 per host per 5 min)', async () => {
    const { perBystander, toSprayedHost, seconds } = await hostileProviderConnect('random at a bystander');
    for (const probes of perBystander) assert.ok(probes <= 20 + 2 * seconds, `${probes} probes in ${seconds} s`);
    const bulkBound = 2000 + Math.ceil((2000 * seconds * 1000) / BULK_REFILL_MS);
    assert.ok(toSprayedHost <= bulkBound + 20 + 2 * seconds, `${toSprayedHost} probes to the sprayed host in ${seconds} s`);
    assert.ok(toSprayedHost >= 2000, 'the first spray was whole');
  });
});

/** `connect()` from an `clientKind` node to an `providerKind` node (whole MccNodes); also returns the circuits the provider accepted. */
async function connect(clientKind: NatKind, providerKind: NatKind) {
  const world = new NodeWorld(41);
  try {
    await world.addInfrastructure();
    const client = await world.addNode(clientKind);
    const provider = await world.addNode(providerKind);
    const observed: RelayedConnection[] = [];
    provider.nat.service.relayClient.on('incoming', (circuit) => observed.push(circuit));
    await world.drive(provider.register('echo', { handler: (stream) => stream.pipe(stream) }));
    const outcome = await world.connect(client, provider, 'echo');
    assert.equal(await world.roundTrip(outcome.stream, 'hello'), 'hello');
    outcome.stream.destroy();
    return { ...outcome, observed, client, provider };
  } finally {
    await world.close();
  }
}

describe('connect(): honest punches within the budgets', () => {
  test('port-restricted -> port-restricted: punched, no probe held back', async () => {
    const { path, clientPunch, client } = await connect('port-restricted', 'port-restricted');
    assert.equal(path, 'punched');
    assert.equal(clientPunch?.probesSuppressed, 0);
    assert.equal(client.nat.service.puncher.probesSuppressed, 0, 'nor by any attempt of the node');
  });

  test("symmetric -> port-restricted (birthday + spray), the relay vouches for the client's host (NatService wires it): punched, the spray free", async () => {
    const { path, clientPunch, observed, provider } = await connect('symmetric', 'port-restricted');
    assert.equal(path, 'punched');
    // Its punch usually runs over one of them; a spray may also hit the main socket's mapping towards the provider (1 in ~257).
    assert.ok(clientPunch && clientPunch.probesSent >= 200, `the client's birthday sockets each sent their probe (${clientPunch?.probesSent} probes)`);
    const seen = observed[0]?.peerObserved;
    assert.ok(seen, 'the relay told the provider where it saw the client');
    assert.equal(provider.nat.service.puncher.guard.bulkProbes(seen, 2000, undefined), 2000, 'the spray at the vouched host cost no bulk budget');
  });

  test("port-restricted -> symmetric (spray at an unvouched host): punched, charged to the host's bulk budget", async () => {
    const { path, client, provider } = await connect('port-restricted', 'symmetric');
    assert.equal(path, 'punched');
    const host = provider.stats().nat.publicAddress;
    assert.ok(host);
    assert.ok(client.nat.service.puncher.guard.bulkProbes(host, 2000, undefined) < 2000, 'the spray was charged');
  });
});
