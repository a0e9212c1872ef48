import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { MccError } from '../../src/errors.js';
import { bytesToHex } from '../../src/util/bytes.js';
import { toSocketAddress } from '../../src/wire/address.js';
import { CIRCUIT_IDLE_MS, CircuitTable, SETUP_GRACE_MS } from '../../src/nat/relay-circuit-table.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';
import { unreservedConnectPadding } from '../../src/nat/relay-unreserved.js';
import { SimWorld, type SimNode } from './sim-world.js';

/** `from` announces a circuit to `client` directly, as a (hostile) relay may: 'ok' or the refusal's code. */
async function announce(world: SimWorld, from: SimNode, client: SimNode, circuitId: Uint8Array, initiator: Uint8Array): Promise<string> {
  const request = from.rpc.request({ id: client.id, address: client.address }, { relayIncoming: { circuitId, initiator, early: [] } }, { timeoutMs: 2000 });
  return world.settle(request).then(
    () => 'ok',
    (error: MccError) => error.code,
  );
}

/** A ping through `address` (a circuit's virtual address): true when answered. */
async function reaches(world: SimWorld, from: SimNode, to: SimNode, address: { host: string; port: number }): Promise<boolean> {
  return world.settle(from.rpc.request({ id: to.id, address }, { ping: {} }, { timeoutMs: 2000 })).then(
    () => true,
    () => false,
  );
}

/** Announces `count` circuits from `from` (random IDs and initiators); returns the outcomes. */
async function announceMany(world: SimWorld, from: SimNode, client: SimNode, count: number): Promise<string[]> {
  const outcomes: string[] = [];
  for (let i = 0; i < count; i++) outcomes.push(await announce(world, from, client, randomBytes(8), randomBytes(32)));
  return outcomes;
}

const okCount = (outcomes: string[]): number => outcomes.filter((o) => o === 'ok').length;

describe('relay client circuit limits', () => {
  test('sybil relays (no reservation) fill half the table at most: our own open() and honest circuits through our relay still get in, live circuits stay', async () => {
    const world = new SimWorld(51);
    try {
      const [relay, ...hostile] = await world.addInfrastructure(5);
      const client = await world.addNode({ kind: 'none' });
      const initiator = await world.addNode({ kind: 'none' });
      const target = await world.addNode({ kind: 'none' });
      await world.settle(client.nat.relayClient.reserve(relay.peer));
      await world.settle(target.nat.relayClient.reserve(relay.peer));
      const circuit = await world.settle(initiator.nat.relayClient.connect(relay.peer, client.id));
      assert.ok(await reaches(world, initiator, client, circuit.address));

      // The reviewer's attack (a): four identities x 16+ announcements, all within the set-up grace.
      const first = await announceMany(world, hostile[0], client, 20);
      assert.equal(okCount(first), 16, 'a quarter of maxCircuits (64) per relay');
      assert.ok(first.slice(16).every((o) => o === 'ERR_LIMIT'));
      const rest = [];
      for (const node of hostile.slice(1)) rest.push(...(await announceMany(world, node, client, 20)));
      assert.equal(okCount(rest), 16, 'half the table (32) for relays we hold no reservation with, in all');
      assert.ok(rest.every((o) => o === 'ok' || o === 'ERR_LIMIT'));
      await assert.rejects(
        world.settle(
          hostile[3].rpc.request(
            { id: client.id, address: client.address },
            { relayIncoming: { circuitId: randomBytes(8), initiator: randomBytes(32), early: [] } },
          ),
        ),
        (error: MccError) => error.code === 'ERR_LIMIT' && /without reservation/.test(error.message),
      );
      assert.equal(client.transport.circuitCount, 33);
      assert.ok(await reaches(world, initiator, client, circuit.address), 'the live circuit still works');

      // Still within the grace of every bogus circuit: our own connect gets a slot...
      const ours = await world.settle(client.nat.relayClient.connect(relay.peer, target.id));
      assert.ok(await reaches(world, client, target, ours.address));
      // ...and so does an honest peer's circuit through the relay we reserved with.
      const other = await world.addNode({ kind: 'none' });
      const second = await world.settle(other.nat.relayClient.connect(relay.peer, client.id));
      assert.ok(await reaches(world, other, client, second.address));
      assert.ok(await reaches(world, initiator, client, circuit.address));
    } finally {
      await world.close();
    }
  });

  test('per initiator: at most 4 circuits; an idle one of the same initiator makes room once past the grace', async () => {
    const world = new SimWorld(52);
    try {
      const [relay] = await world.addInfrastructure(1);
      const client = await world.addNode({ kind: 'none' });
      const initiator = randomBytes(32);
      const ids = Array.from({ length: 5 }, () => randomBytes(8));
      const outcomes: string[] = [];
      for (const id of ids) outcomes.push(await announce(world, relay, client, id, initiator));
      assert.deepEqual(outcomes, ['ok', 'ok', 'ok', 'ok', 'ERR_LIMIT']);
      // Refused with a reason that names the limit.
      await assert.rejects(
        world.settle(relay.rpc.request({ id: client.id, address: client.address }, { relayIncoming: { circuitId: randomBytes(8), initiator, early: [] } })),
        (error: MccError) => error.code === 'ERR_LIMIT' && /initiator/.test(error.message),
      );
      await world.clock.run(SETUP_GRACE_MS);
      assert.equal(await announce(world, relay, client, ids[4], initiator), 'ok');
      assert.equal(client.transport.circuitTraffic(bytesToHex(ids[0])), undefined, 'the oldest idle circuit of that initiator went');
      assert.ok(client.transport.circuitTraffic(bytesToHex(ids[1])));
    } finally {
      await world.close();
    }
  });

  test('a full table: circuits idle since set-up go first (oldest first), circuits with traffic stay, ours too', async () => {
    const world = new SimWorld(53);
    try {
      const [relay, ...hostile] = await world.addInfrastructure(4);
      const client = await world.addNode({ kind: 'none', nat: { relayClient: { maxCircuits: 8 } } });
      const initiator = await world.addNode({ kind: 'none' });
      await world.settle(client.nat.relayClient.reserve(relay.peer));
      const live = await world.settle(initiator.nat.relayClient.connect(relay.peer, client.id));
      assert.ok(await reaches(world, initiator, client, live.address));
      // maxCircuits 8: 2 per relay, 4 through relays without reservation, 6 incoming in all.
      const bogus: Uint8Array[] = [];
      for (const from of [hostile[0], hostile[0], hostile[1], hostile[1], relay]) {
        const id = randomBytes(8);
        assert.equal(await announce(world, from, client, id, randomBytes(32)), 'ok');
        bogus.push(id);
      }
      assert.equal(await announce(world, hostile[2], client, randomBytes(8), randomBytes(32)), 'ERR_LIMIT', 'unreserved share full');
      // The last two places are ours: two circuits being set up (never launched).
      const opening = [client.nat.relayClient.open(initiator.id, [{ relay: relay.peer }]), client.nat.relayClient.open(initiator.id, [{ relay: relay.peer }])];
      assert.equal(client.transport.circuitCount, 8);
      await assert.rejects(
        world.settle(
          hostile[2].rpc.request(
            { id: client.id, address: client.address },
            { relayIncoming: { circuitId: randomBytes(8), initiator: randomBytes(32), early: [] } },
          ),
        ),
        (error: MccError) => error.code === 'ERR_LIMIT',
        'all young: refused',
      );
      // Our own opens are refused too rather than evict a circuit in use.
      assert.throws(
        () => client.nat.relayClient.open(initiator.id, [{ relay: relay.peer }]),
        (error: MccError) => error.code === 'ERR_LIMIT' && /in use/.test(error.message),
      );
      await world.clock.run(SETUP_GRACE_MS);
      assert.ok(await reaches(world, initiator, client, live.address));
      const fresh = randomBytes(8);
      assert.equal(await announce(world, hostile[2], client, fresh, randomBytes(32)), 'ok');
      assert.equal(client.transport.circuitTraffic(bytesToHex(bogus[0])), undefined, 'the oldest circuit idle since set-up was evicted');
      for (const id of bogus.slice(1)) assert.ok(client.transport.circuitTraffic(bytesToHex(id)), 'the younger ones stay');
      for (const circuit of opening) assert.ok(client.transport.circuitTraffic(circuit.circuitId), 'ours, being set up, stay');
      assert.ok(await reaches(world, initiator, client, live.address), 'the circuit in use stays');
      // A local open evicts the next idle one.
      const third = client.nat.relayClient.open(initiator.id, [{ relay: relay.peer }]);
      assert.equal(client.transport.circuitTraffic(bytesToHex(bogus[1])), undefined);
      third.cancel();
      for (const circuit of opening) circuit.cancel();
      // close() still forgets every circuit.
      client.nat.relayClient.close();
      assert.equal(client.transport.circuitCount, 0);
    } finally {
      await world.close();
    }
  });

  test('old traffic then a quiet spell: circuits count as idle from their last datagram, and a new circuit gets a place (reviewer scenario b)', async () => {
    const world = new SimWorld(56);
    try {
      const relays = await world.addInfrastructure(3);
      const relay = relays[0];
      const client = await world.addNode({ kind: 'none', nat: { relayClient: { maxCircuits: 8 } } });
      const initiators = await Promise.all(Array.from({ length: 3 }, () => world.addNode({ kind: 'none' })));
      const target = await world.addNode({ kind: 'none' });
      for (const node of relays) await world.settle(client.nat.relayClient.reserve(node.peer));
      await world.settle(target.nat.relayClient.reserve(relay.peer));
      // 6 incoming circuits (the incoming share; 2 per relay) and 2 of ours, each carrying traffic both ways.
      const circuits: Array<{ from: SimNode; to: SimNode; address: { host: string; port: number } }> = [];
      for (const [index, node] of initiators.entries()) {
        for (let i = 0; i < 2; i++)
          circuits.push({ from: node, to: client, ...(await world.settle(node.nat.relayClient.connect(relays[index].peer, client.id))) });
      }
      for (let i = 0; i < 2; i++) circuits.push({ from: client, to: target, ...(await world.settle(client.nat.relayClient.connect(relay.peer, target.id))) });
      assert.equal(client.transport.circuitCount, 8);
      await world.clock.run(SETUP_GRACE_MS);
      for (const { from, to, address } of circuits) assert.ok(await reaches(world, from, to, address));
      // Traffic keeps a circuit in use: with all 8 busy, a new one is refused.
      assert.throws(
        () => client.nat.relayClient.open(target.id, [{ relay: relay.peer }]),
        (error: MccError) => error.code === 'ERR_LIMIT',
      );
      // More traffic that no reading has seen yet: it must count from when it went, not from when it is read.
      for (const { from, to, address } of circuits) assert.ok(await reaches(world, from, to, address));
      // An hour without traffic (nobody asked for a circuit meanwhile); the reservations are renewed.
      await world.clock.run(3_600_000);
      for (const node of relays) await world.settle(client.nat.relayClient.reserve(node.peer));
      await world.settle(target.nat.relayClient.reserve(relay.peer));
      const late = await world.addNode({ kind: 'none' });
      const fresh = await world.settle(late.nat.relayClient.connect(relay.peer, client.id));
      assert.ok(await reaches(world, late, client, fresh.address), 'an honest circuit after the quiet spell gets a place');
      const ours = client.nat.relayClient.open(target.id, [{ relay: relay.peer }]);
      assert.ok(client.transport.circuitTraffic(ours.circuitId), 'and so does ours, right after');
      ours.cancel();
      assert.equal(client.transport.circuitCount, 7);
    } finally {
      await world.close();
    }
  });

  test('the same initiator moving a circuit to a relay with no room keeps it where it was; with room it moves without costing another circuit', async () => {
    const world = new SimWorld(57);
    try {
      const [first, second] = await world.addInfrastructure(2);
      const client = await world.addNode({ kind: 'none', nat: { relayClient: { maxCircuits: 8 } } });
      const initiator = randomBytes(32);
      const id = randomBytes(8);
      assert.equal(await announce(world, first, client, id, initiator), 'ok');
      // The second relay's share (2 of 8) is full of young circuits.
      assert.equal(okCount(await announceMany(world, second, client, 2)), 2);
      assert.equal(await announce(world, second, client, id, initiator), 'ERR_LIMIT');
      assert.ok(client.transport.circuitTraffic(bytesToHex(id)), 'the refused move left the circuit in place');
      assert.equal(await announce(world, first, client, id, initiator), 'ok', 'through the first relay it is still a retransmission');
      assert.equal(client.transport.circuitCount, 3);
      // Past the grace the second relay's circuits are idle: the move is accepted, replacing (not adding) the circuit.
      await world.clock.run(SETUP_GRACE_MS);
      assert.equal(await announce(world, second, client, id, initiator), 'ok');
      assert.ok(client.transport.circuitTraffic(bytesToHex(id)));
      assert.equal(client.transport.circuitCount, 2, 'one idle circuit of the second relay made room; the moved one counts once');
    } finally {
      await world.close();
    }
  });
});

describe('circuit table', () => {
  /** A table over `counts` (circuit -> datagrams each way). */
  function table(maxCircuits: number) {
    const clock = new VirtualClock();
    const counts = new Map<string, { received: number; sent: number }>();
    const evicted: string[] = [];
    const circuits = new CircuitTable(
      clock,
      (id) => counts.get(id),
      maxCircuits,
      (id) => evicted.push(id),
    );
    return { clock, counts, evicted, circuits };
  }
  const from = (relayHex: string, initiatorHex: string, unreserved: boolean) => ({
    initiator: new Uint8Array(32),
    initiatorHex,
    relay: new Uint8Array(32),
    relayHex,
    unreserved,
  });

  test("the reviewer's demo (b): traffic at 20 s, an hour of silence, then a new circuit makes room (and no reading makes old traffic new)", () => {
    const { clock, counts, evicted, circuits } = table(64);
    for (let i = 0; i < 64; i++) {
      counts.set(`c${i}`, { received: 0, sent: 0 });
      circuits.makeRoom();
      circuits.add(`c${i}`, undefined);
    }
    clock.advance(20_000);
    for (const count of counts.values()) {
      count.received += 5;
      count.sent += 5;
    }
    assert.throws(() => circuits.makeRoom(), /in use/, 'fresh traffic: in use');
    clock.advance(CIRCUIT_IDLE_MS - 1);
    assert.throws(() => circuits.makeRoom(), /in use/, 'still within 2 min of the traffic');
    // More traffic that no makeRoom() sees (at 150 s), then an hour of silence: the periodic reading dated it.
    clock.advance(10_000);
    for (const count of counts.values()) count.received = count.sent = 100;
    clock.advance(3_600_000);
    circuits.makeRoom();
    circuits.add('new', undefined);
    assert.deepEqual(evicted, ['c0']);
    circuits.makeRoom();
    assert.deepEqual(evicted, ['c0', 'c1']);
    circuits.clear();
    assert.equal(clock.pending, 0, 'an empty table reads nothing (no timer left)');
  });

  test('incoming circuits take 3/4 at most (the rest is ours), unreserved ones 1/2', () => {
    const { circuits } = table(64);
    assert.equal(circuits.maxIncoming, 48);
    assert.equal(circuits.maxUnreserved, 32);
    let n = 0;
    // Three relays we reserved with, a quarter each: the incoming share is full.
    for (const relay of ['r1', 'r2', 'r3']) {
      for (let i = 0; i < 16; i++) {
        const end = from(relay, `i${n}`, false);
        circuits.makeRoom(end);
        circuits.add(`c${n++}`, end);
      }
    }
    assert.throws(
      () => circuits.makeRoom(from('r4', 'x', false)),
      (error: MccError) => error.code === 'ERR_LIMIT' && /incoming/.test(error.message),
    );
    for (let i = 0; i < 16; i++) {
      circuits.makeRoom();
      circuits.add(`ours${i}`, undefined, true);
    }
    assert.equal(circuits.size, 64);
    assert.throws(() => circuits.makeRoom(), /in use/);
  });
});

describe('relay server: set-ups to unreserved targets do not amplify', () => {
  /** A RelayConnect naming `victim`'s address for a random target. */
  function connectTo(victim: SimNode, pad: boolean) {
    const relayConnect = { target: randomBytes(32), circuitId: randomBytes(8), early: [], address: toSocketAddress(victim.address) };
    const padding = pad ? unreservedConnectPadding(relayConnect) : undefined;
    return padding ? { relayConnect, padding } : { relayConnect };
  }

  test("the reviewer's reflection (small RelayConnects naming a victim) is refused; padded ones get no more bytes to the victim than were sent", async () => {
    const world = new SimWorld(41);
    try {
      const [relay] = await world.addInfrastructure(1);
      const attacker = await world.addNode({ kind: 'none' });
      const victim = await world.addNode({ kind: 'none' });
      await world.settle(attacker.rpc.request(relay.peer, { ping: {} })); // validated, holds a token
      const sentBefore = attacker.stats.bytesOut;
      const all: Promise<unknown>[] = [];
      for (let i = 0; i < 4; i++)
        all.push(
          attacker.rpc.request(relay.peer, connectTo(victim, false), { timeoutMs: 500, retries: 0 }).then(
            () => 'ok',
            (error: MccError) => error.code,
          ),
        );
      assert.deepEqual(await world.settle(Promise.all(all)), ['ERR_LIMIT', 'ERR_LIMIT', 'ERR_LIMIT', 'ERR_LIMIT']);
      await world.clock.run(5000);
      assert.equal(victim.stats.bytesIn, 0);

      // Padded as the protocol asks, and retransmitted often: one announcement per RelayConnect, two at most.
      const sent = attacker.stats.bytesOut;
      const padded = attacker.rpc.request(relay.peer, connectTo(victim, true), { timeoutMs: 3000, retries: 4 }).catch(() => {});
      await world.settle(padded);
      await world.clock.run(5000);
      const got = victim.stats.bytesIn;
      assert.ok(victim.stats.datagramsIn >= 1 && victim.stats.datagramsIn <= 2, `announcements: ${victim.stats.datagramsIn}`);
      assert.ok(got <= attacker.stats.bytesOut - sent, `victim got ${got} B for ${attacker.stats.bytesOut - sent} B sent`);
      assert.ok(got <= attacker.stats.bytesOut - sentBefore);
    } finally {
      await world.close();
    }
  });

  test('an initiator the relay has not validated gets a cookie first; the honest set-up then works', async () => {
    const world = new SimWorld(54);
    try {
      const [relay] = await world.addInfrastructure(1);
      const initiator = await world.addNode({ kind: 'none' });
      const target = await world.addNode({ kind: 'none' });
      const cookiesBefore = relay.stats.amplificationLimited;
      const circuit = await world.settle(initiator.nat.relayClient.connect(relay.peer, target.id, { targetAddress: target.address }));
      assert.ok(relay.stats.amplificationLimited > cookiesBefore, 'the first RelayConnect was answered by a cookie');
      const answer = await world.settle(initiator.rpc.request({ id: target.id, address: circuit.address }, { ping: {} }));
      assert.equal(answer.fromHex, target.idHex);
    } finally {
      await world.close();
    }
  });

  test('unreserved set-ups are rate-limited in total, not only per source IP', async () => {
    const world = new SimWorld(55);
    try {
      const [relay] = await world.addInfrastructure(1);
      const victim = await world.addNode({ kind: 'none' });
      const initiators = await Promise.all(Array.from({ length: 22 }, () => world.addNode({ kind: 'none' })));
      for (const node of initiators) await world.settle(node.rpc.request(relay.peer, { ping: {} }));
      const outcomes = await world.settle(
        Promise.all(
          initiators.map((node) =>
            node.rpc.request(relay.peer, connectTo(victim, true), { timeoutMs: 4000, retries: 0 }).then(
              () => 'ok',
              (error: MccError) => `${error.code} ${error.message}`,
            ),
          ),
        ),
      );
      const limited = outcomes.filter((o) => o.includes('too many unreserved'));
      assert.ok(limited.length >= 1, 'the global bucket (burst 20) ran out');
      assert.ok(victim.stats.datagramsIn <= 20, `${victim.stats.datagramsIn} announcements`);
    } finally {
      await world.close();
    }
  });
});
