import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { MccError } from '../../src/errors.js';
import { bytesToHex } from '../../src/util/bytes.js';
import { toSocketAddress } from '../../src/wire/address.js';
import { SETUP_GRACE_MS } from '../../src/nat/relay-circuit-table.js';
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

describe('relay client circuit limits', () => {
  test('a flood of RelayIncoming from hostile relays never evicts a live circuit: a quarter per relay, then refusal', async () => {
    const world = new SimWorld(51);
    try {
      const [relay, ...hostile] = await world.addInfrastructure(5);
      const client = await world.addNode({ kind: 'none' });
      const initiator = await world.addNode({ kind: 'none' });
      await world.settle(client.nat.relayClient.reserve(relay!.peer));
      const circuit = await world.settle(initiator.nat.relayClient.connect(relay!.peer, client.id));
      assert.ok(await reaches(world, initiator, client, circuit.address));

      // The reviewer's attack: 64 announcements with random IDs and initiators from one relay.
      const outcomes: string[] = [];
      for (let i = 0; i < 64; i++) outcomes.push(await announce(world, hostile[0]!, client, randomBytes(8), randomBytes(32)));
      assert.equal(outcomes.filter((o) => o === 'ok').length, 16, 'a quarter of maxCircuits (64) per relay');
      assert.ok(outcomes.slice(16).every((o) => o === 'ERR_LIMIT'));
      assert.ok(await reaches(world, initiator, client, circuit.address), 'the live circuit still works');

      // Three more hostile relays fill the rest of the table (64 with the live circuit); then refusal.
      let accepted = 0;
      for (const node of hostile.slice(1)) {
        for (let i = 0; i < 20; i++) if ((await announce(world, node, client, randomBytes(8), randomBytes(32))) === 'ok') accepted++;
      }
      assert.equal(accepted, 47);
      assert.equal(client.transport.circuitCount, 64);
      assert.ok(await reaches(world, initiator, client, circuit.address), 'the live circuit still works with the table full');
      // Past the set-up grace the bogus circuits are idle and make room for an honest one; the live circuit stays.
      await world.clock.run(SETUP_GRACE_MS);
      const other = await world.addNode({ kind: 'none' });
      const second = await world.settle(other.nat.relayClient.connect(relay!.peer, client.id));
      assert.ok(await reaches(world, other, client, second.address));
      assert.ok(await reaches(world, initiator, client, circuit.address));
      assert.equal(client.transport.circuitCount, 64);
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
      for (const id of ids) outcomes.push(await announce(world, relay!, client, id, initiator));
      assert.deepEqual(outcomes, ['ok', 'ok', 'ok', 'ok', 'ERR_LIMIT']);
      // Refused with a reason that names the limit.
      await assert.rejects(
        world.settle(relay!.rpc.request({ id: client.id, address: client.address }, { relayIncoming: { circuitId: randomBytes(8), initiator, early: [] } })),
        (error: MccError) => error.code === 'ERR_LIMIT' && /initiator/.test(error.message),
      );
      await world.clock.run(SETUP_GRACE_MS);
      assert.equal(await announce(world, relay!, client, ids[4]!, initiator), 'ok');
      assert.equal(client.transport.circuitTraffic(bytesToHex(ids[0]!)), undefined, 'the oldest idle circuit of that initiator went');
      assert.ok(client.transport.circuitTraffic(bytesToHex(ids[1]!)));
    } finally {
      await world.close();
    }
  });

  test('a full table: circuits idle since set-up go first (oldest first), circuits with traffic stay, ours too', async () => {
    const world = new SimWorld(53);
    try {
      const [relay, ...hostile] = await world.addInfrastructure(5);
      const client = await world.addNode({ kind: 'none', nat: { relayClient: { maxCircuits: 8 } } });
      const initiator = await world.addNode({ kind: 'none' });
      await world.settle(client.nat.relayClient.reserve(relay!.peer));
      const live = await world.settle(initiator.nat.relayClient.connect(relay!.peer, client.id));
      assert.ok(await reaches(world, initiator, client, live.address));
      // 2 per relay (8 / 4): 7 bogus circuits fill the table.
      const bogus: Uint8Array[] = [];
      for (const [index, count] of [2, 2, 2, 1].entries()) {
        for (let i = 0; i < count; i++) {
          const id = randomBytes(8);
          assert.equal(await announce(world, hostile[index]!, client, id, randomBytes(32)), 'ok');
          bogus.push(id);
        }
      }
      assert.equal(client.transport.circuitCount, 8);
      await assert.rejects(
        world.settle(hostile[3]!.rpc.request({ id: client.id, address: client.address }, { relayIncoming: { circuitId: randomBytes(8), initiator: randomBytes(32), early: [] } })),
        (error: MccError) => error.code === 'ERR_LIMIT' && /in use/.test(error.message),
        'all young: refused',
      );
      // Our own opens are refused too rather than evict a circuit in use.
      assert.throws(() => client.nat.relayClient.open(initiator.id, [{ relay: relay!.peer }]), (error: MccError) => error.code === 'ERR_LIMIT');
      await world.clock.run(SETUP_GRACE_MS);
      assert.ok(await reaches(world, initiator, client, live.address));
      const fresh = randomBytes(8);
      assert.equal(await announce(world, hostile[3]!, client, fresh, randomBytes(32)), 'ok');
      assert.equal(client.transport.circuitTraffic(bytesToHex(bogus[0]!)), undefined, 'the oldest circuit idle since set-up was evicted');
      for (const id of bogus.slice(1)) assert.ok(client.transport.circuitTraffic(bytesToHex(id)), 'the younger ones stay');
      assert.ok(await reaches(world, initiator, client, live.address), 'the circuit in use stays');
      // A local open evicts the next idle one.
      const opening = client.nat.relayClient.open(initiator.id, [{ relay: relay!.peer }]);
      assert.equal(client.transport.circuitTraffic(bytesToHex(bogus[1]!)), undefined);
      opening.cancel();
      // close() still forgets every circuit.
      client.nat.relayClient.close();
      assert.equal(client.transport.circuitCount, 0);
    } finally {
      await world.close();
    }
  });
});

describe('relay server: set-ups to unreserved targets do not amplify', () => {
  /** A RelayConnect naming `victim`'s address for a random target. */
  function connectTo(victim: SimNode, pad: boolean) {
    const relayConnect = { target: randomBytes(32), circuitId: randomBytes(8), early: [], address: toSocketAddress(victim.address) };
    const padding = pad ? unreservedConnectPadding(relayConnect) : undefined;
    return padding ? { relayConnect, padding } : { relayConnect };
  }

  test('the reviewer\'s reflection (small RelayConnects naming a victim) is refused; padded ones get no more bytes to the victim than were sent', async () => {
    const world = new SimWorld(41);
    try {
      const [relay] = await world.addInfrastructure(1);
      const attacker = await world.addNode({ kind: 'none' });
      const victim = await world.addNode({ kind: 'none' });
      await world.settle(attacker.rpc.request(relay!.peer, { ping: {} })); // validated, holds a token
      const sentBefore = attacker.stats.bytesOut;
      const all: Promise<unknown>[] = [];
      for (let i = 0; i < 4; i++) all.push(attacker.rpc.request(relay!.peer, connectTo(victim, false), { timeoutMs: 500, retries: 0 }).then(() => 'ok', (error: MccError) => error.code));
      assert.deepEqual(await world.settle(Promise.all(all)), ['ERR_LIMIT', 'ERR_LIMIT', 'ERR_LIMIT', 'ERR_LIMIT']);
      await world.clock.run(5000);
      assert.equal(victim.stats.bytesIn, 0);

      // Padded as the protocol asks, and retransmitted often: one announcement per RelayConnect, two at most.
      const sent = attacker.stats.bytesOut;
      const padded = attacker.rpc.request(relay!.peer, connectTo(victim, true), { timeoutMs: 3000, retries: 4 }).catch(() => {});
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
      const cookiesBefore = relay!.stats.amplificationLimited;
      const circuit = await world.settle(initiator.nat.relayClient.connect(relay!.peer, target.id, { targetAddress: target.address }));
      assert.ok(relay!.stats.amplificationLimited > cookiesBefore, 'the first RelayConnect was answered by a cookie');
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
      for (const node of initiators) await world.settle(node.rpc.request(relay!.peer, { ping: {} }));
      const outcomes = await world.settle(
        Promise.all(initiators.map((node) => node.rpc.request(relay!.peer, connectTo(victim, true), { timeoutMs: 4000, retries: 0 }).then(() => 'ok', (error: MccError) => `${error.code} ${error.message}`))),
      );
      const limited = outcomes.filter((o) => o.includes('too many unreserved'));
      assert.ok(limited.length >= 1, 'the global bucket (burst 20) ran out');
      assert.ok(victim.stats.datagramsIn <= 20, `${victim.stats.datagramsIn} announcements`);
    } finally {
      await world.close();
    }
  });
});
