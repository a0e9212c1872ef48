import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MccError } from '../../src/errors.js';
import { encodeRelayed, isVirtualAddress } from '../../src/nat/relay-packet.js';
import { PACKET_TUNNEL } from '../../src/wire/constants.js';
import { SimWorld } from './sim-world.js';

describe('relay', () => {
  test('an unreachable node reserves with two relays and is reached through one; the relay forwards sealed datagrams', async () => {
    const world = new SimWorld(21);
    try {
      const infra = await world.addInfrastructure(4);
      const client = await world.addNode({ kind: 'port-restricted', nat: { relayCandidates: () => infra.slice(0, 3).map((n) => n.peer) } });
      const relaysSeen: number[] = [];
      client.nat.on('relays', (relays) => relaysSeen.push(relays.length));
      client.nat.start();
      await world.settle(client.nat.monitor.check());
      await world.clock.run(2000);
      await world.settle(client.nat.relayClient.settled());
      assert.equal(client.nat.state.reachable, false);
      const relays = client.nat.relayClient.relays;
      assert.equal(relays.length, 2, 'minRelays reservations');
      assert.ok(relaysSeen.includes(2));

      const initiator = await world.addNode({ kind: 'none' });
      let incoming = 0;
      client.nat.relayClient.on('incoming', () => incoming++);
      const circuit = await world.settle(initiator.nat.relayClient.connect(relays[0], client.id));
      assert.ok(isVirtualAddress(circuit.address));
      assert.equal(incoming, 1);
      const relayNode = world.nodes.find((n) => n.idHex === Buffer.from(relays[0].id).toString('hex'))!;

      // A sealed RPC end to end through the circuit: the client sees the initiator's ID at a virtual address.
      const answer = await world.settle(initiator.rpc.request({ id: client.id, address: circuit.address }, { ping: {} }));
      assert.equal(answer.fromHex, client.idHex);
      assert.ok(relayNode.nat.relayServer.stats.forwardedPackets >= 2);
      assert.ok(initiator.transport.counters.relayedOut >= 1 && client.transport.counters.relayedIn >= 1);
      // Without the circuit the client cannot be reached directly.
      await assert.rejects(world.settle(initiator.rpc.request(client.peer, { ping: {} }, { timeoutMs: 1000 })));
    } finally {
      await world.close();
    }
  });

  test('bounds: circuits per client, bytes per second, idle lifetime, switched off', async () => {
    const world = new SimWorld(22);
    try {
      const relay = await world.addNode({
        kind: 'none',
        nat: { relay: { maxCircuitsPerClient: 1, bytesPerSecond: 10_000, burstBytes: 10_000, circuitIdleMs: 30_000 } },
      });
      const client = await world.addNode({ kind: 'port-restricted', nat: { keepalive: { learn: false } } });
      const initiator = await world.addNode({ kind: 'none' });
      const other = await world.addNode({ kind: 'none' });
      await world.settle(client.nat.relayClient.reserve(relay.peer));
      const circuit = await world.settle(initiator.nat.relayClient.connect(relay.peer, client.id));
      await assert.rejects(world.settle(other.nat.relayClient.connect(relay.peer, client.id)), (error: MccError) => error.code === 'ERR_LIMIT');

      // 40 datagrams of 1000 bytes at once: the 10 kB bucket lets about 10 through.
      const before = client.transport.counters.relayedIn;
      const datagram = new Uint8Array(1000);
      datagram[0] = PACKET_TUNNEL;
      for (let i = 0; i < 40; i++) initiator.transport.send(circuit.address, datagram);
      await world.clock.run(200);
      const through = client.transport.counters.relayedIn - before;
      assert.ok(through >= 9 && through <= 11, `forwarded ${through}`);
      assert.ok(relay.nat.relayServer.stats.droppedRate >= 29);

      // Oversized inner datagrams never leave the sender.
      initiator.transport.send(circuit.address, new Uint8Array(1195));
      assert.equal(initiator.transport.counters.droppedOversized, 1);

      // Idle past circuitIdleMs: the relay forgets the circuit.
      await world.clock.run(40_000);
      const idleBefore = client.transport.counters.relayedIn;
      initiator.transport.send(circuit.address, datagram);
      await world.clock.run(200);
      assert.equal(client.transport.counters.relayedIn, idleBefore);

      // Switched off: reservations are refused.
      relay.nat.relayServer.setEnabled(false);
      await assert.rejects(world.settle(client.nat.relayClient.reserve(relay.peer)), (error: MccError) => error.code === 'ERR_PEER');
      assert.equal(relay.nat.relayServer.stats.reservations, 0);
    } finally {
      await world.close();
    }
  });

  test("reservations are refreshed before they expire; a reachable target without reservation is reached via the initiator's relay", async () => {
    const world = new SimWorld(23);
    try {
      const relay = await world.addNode({ kind: 'none', nat: { relay: { reservationLifetimeMs: 20_000 } } });
      const client = await world.addNode({
        kind: 'port-restricted',
        nat: { relayClient: { minRelays: 1 }, relayCandidates: () => [relay.peer], keepalive: { learn: false } },
      });
      client.nat.relayClient.setCandidates([relay.peer]);
      client.nat.relayClient.setWanted(true);
      await world.clock.run(120_000);
      assert.deepEqual(relay.nat.relayServer.clients(), [client.idHex]);

      // A firewalled initiator (only the relay is allowed) reaches a public target through its own relay.
      const target = await world.addNode({ kind: 'none' });
      const circuit = await world.settle(client.nat.relayClient.connect(relay.peer, target.id, { targetAddress: target.address }));
      const answer = await world.settle(client.rpc.request({ id: target.id, address: circuit.address }, { ping: {} }));
      assert.equal(answer.fromHex, target.idHex);
    } finally {
      await world.close();
    }
  });

  test('the initiator names the circuit and its first datagrams ride the set-up: the relay forwards only the answer', async () => {
    const world = new SimWorld(24);
    try {
      const relay = await world.addNode({ kind: 'none' });
      const client = await world.addNode({ kind: 'port-restricted', nat: { keepalive: { learn: false } } });
      const initiator = await world.addNode({ kind: 'none' });
      await world.settle(client.nat.relayClient.reserve(relay.peer));
      const opening = initiator.nat.relayClient.open(client.id, [{ relay: relay.peer }]);
      assert.ok(isVirtualAddress(opening.address));
      // Sent before the set-up leaves: held, then carried inside RelayConnect / RelayIncoming.
      const ping = initiator.rpc.request({ id: client.id, address: opening.address }, { ping: {} });
      assert.equal(initiator.transport.counters.relayedOut, 0, 'nothing went out through the circuit yet');
      const forwardedBefore = relay.nat.relayServer.stats.forwardedPackets;
      const circuit = await world.settle(opening.launch());
      assert.equal(circuit.address.host, opening.address.host);
      const answer = await world.settle(ping);
      assert.equal(answer.fromHex, client.idHex, 'the target answered the early request, authenticated end to end');
      assert.equal(relay.nat.relayServer.stats.forwardedPackets - forwardedBefore, 1, 'only the answer was forwarded as a relayed datagram');
      assert.equal(initiator.transport.counters.relayedOut, 0, 'the request never travelled as a relayed datagram');
      // Later traffic flows through the open circuit as usual.
      const again = await world.settle(initiator.rpc.request({ id: client.id, address: circuit.address }, { ping: {} }));
      assert.equal(again.fromHex, client.idHex);
      assert.ok(initiator.transport.counters.relayedOut >= 1);
    } finally {
      await world.close();
    }
  });

  test('early datagrams wait for the acceptance to go out; close() in between cancels their delivery (no timer left behind)', async () => {
    const world = new SimWorld(27);
    try {
      const relay = await world.addNode({ kind: 'none' });
      const client = await world.addNode({ kind: 'port-restricted', nat: { keepalive: { learn: false } } });
      const initiator = await world.addNode({ kind: 'none' });
      await world.settle(client.nat.relayClient.reserve(relay.peer));
      // Closed right after accepting: the acceptance is answered, the held delivery is not run.
      client.nat.relayClient.on('incoming', () => queueMicrotask(() => client.nat.relayClient.close()));
      const counters = client.transport.counters;
      const before = { relayedIn: counters.relayedIn, droppedInbound: counters.droppedInbound };
      const opening = initiator.nat.relayClient.open(client.id, [{ relay: relay.peer }]);
      const ping = initiator.rpc.request({ id: client.id, address: opening.address }, { ping: {} }, { timeoutMs: 500 });
      await world.settle(opening.launch());
      await assert.rejects(world.settle(ping));
      assert.deepEqual(
        { relayedIn: counters.relayedIn, droppedInbound: counters.droppedInbound },
        before,
        'the early datagram was neither delivered nor dropped later',
      );
    } finally {
      await world.close();
    }
  });

  test('set-up rules: nothing from the initiator before acceptance, a retransmitted RelayConnect joins its set-up, IDs in use and oversized early data are refused', async () => {
    const world = new SimWorld(25);
    try {
      const relay = await world.addNode({ kind: 'none' });
      const client = await world.addNode({ kind: 'port-restricted', nat: { keepalive: { learn: false } } });
      const initiator = await world.addNode({ kind: 'none' });
      const other = await world.addNode({ kind: 'none' });
      await world.settle(client.nat.relayClient.reserve(relay.peer));
      let incoming = 0;
      client.nat.relayClient.on('incoming', () => incoming++);
      const circuitId = new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2]);
      const relayConnect = { target: client.id, circuitId };
      const first = initiator.rpc.request(relay.peer, { relayConnect });
      // A relayed datagram right behind the set-up reaches the relay while the target has not accepted yet.
      const early = new Uint8Array(100);
      early[0] = PACKET_TUNNEL;
      initiator.transport.sendDirect(relay.address, encodeRelayed(circuitId, early));
      const second = initiator.rpc.request(relay.peer, { relayConnect });
      const [a, b] = await world.settle(Promise.all([first, second]));
      assert.deepEqual(a.envelope.relayCircuit?.circuitId, circuitId);
      assert.deepEqual(b.envelope.relayCircuit?.circuitId, circuitId);
      assert.equal(incoming, 1, 'the target heard of the circuit once');
      assert.ok(relay.nat.relayServer.stats.droppedUnknown >= 1, 'the early relayed datagram was dropped');
      assert.equal(relay.nat.relayServer.stats.forwardedPackets, 0);
      await assert.rejects(world.settle(other.rpc.request(relay.peer, { relayConnect })), (error: MccError) => error.code === 'ERR_LIMIT');
      const tooMuch = { target: client.id, circuitId: new Uint8Array(8).fill(1), early: Array.from({ length: 5 }, () => new Uint8Array(10).fill(0x11)) };
      await assert.rejects(
        world.settle(initiator.rpc.request(relay.peer, { relayConnect: tooMuch })),
        (error: MccError) => error.code === 'ERR_PEER' && error.details?.remoteCode === 2,
      );
      const tooLarge = { target: client.id, circuitId: new Uint8Array(8).fill(2), early: [new Uint8Array(901).fill(0x11)] };
      await assert.rejects(
        world.settle(initiator.rpc.request(relay.peer, { relayConnect: tooLarge })),
        (error: MccError) => error.code === 'ERR_PEER' && error.details?.remoteCode === 2,
      );
    } finally {
      await world.close();
    }
  });
  test('a RelayConnect is not retransmitted before its answer could be back (two round trips to the relay): rttFactor', async () => {
    const world = new SimWorld(31);
    try {
      const relay = await world.addNode({ kind: 'none' });
      const client = await world.addNode({ kind: 'port-restricted', nat: { keepalive: { learn: false } } });
      const initiator = await world.addNode({ kind: 'none' });
      await world.settle(client.nat.relayClient.reserve(relay.peer));
      // Every round trip takes exactly 50 ms here: the estimate towards the relay gets tight.
      for (let i = 0; i < 12; i++) await world.settle(initiator.rpc.request(relay.peer, { ping: {} }));
      const rto = initiator.rpc.rto(relay.id);
      assert.ok(rto < 100, `a tight estimate: RTO ${rto} ms, below the 100 ms the set-up takes`);
      const retransmits = initiator.stats.rpc.retransmits;
      const opening = initiator.nat.relayClient.open(client.id, [{ relay: relay.peer }]);
      const ping = initiator.rpc.request({ id: client.id, address: opening.address }, { ping: {} });
      await world.settle(opening.launch());
      assert.equal((await world.settle(ping)).fromHex, client.idHex);
      assert.equal(initiator.stats.rpc.retransmits, retransmits, 'the RelayConnect (and its early datagrams) went out once');
      assert.equal(initiator.rpc.rto(relay.id), rto, 'the set-up time was not taken for a round trip to the relay');
      // The option is checked like the others.
      await assert.rejects(initiator.rpc.request(relay.peer, { ping: {} }, { rttFactor: 0.5 }), (error: MccError) => error.code === 'ERR_INVALID_ARGUMENT');
      const slow = await world.settle(initiator.rpc.request(relay.peer, { ping: {} }, { rttFactor: 3 }));
      assert.equal(slow.fromHex, relay.idHex);
    } finally {
      await world.close();
    }
  });
  test('reservations: silent candidates cost a hedge each, not a request timeout; a round left short is retried within seconds', async () => {
    const world = new SimWorld(41);
    try {
      const infra = await world.addInfrastructure(3);
      // Nodes behind NAT at their inside addresses: requests to them vanish.
      const hidden = await Promise.all([0, 1, 2].map(() => world.addNode({ kind: 'port-restricted' })));
      const client = await world.addNode({ kind: 'port-restricted', nat: { keepalive: { learn: false } } });
      const relays = client.nat.relayClient;
      relays.setCandidates([...hidden.map((n) => n.peer), infra[0].peer, infra[1].peer]);
      relays.setWanted(true);
      await world.clock.run(2500); // one after the other, the three silent ones alone would take 12 s
      assert.deepEqual(relays.relays.map((r) => Buffer.from(r.id).toString('hex')).sort(), [infra[0].idHex, infra[1].idHex].sort());
      await world.settle(relays.settled());
      assert.equal(relays.relays.length, 2, 'no more reservations than wanted');

      // Relays that refuse at first (their relay role not on yet) are asked again soon, not after retryMs (30 s).
      infra[1].nat.relayServer.setEnabled(false);
      infra[2].nat.relayServer.setEnabled(false);
      const late = await world.addNode({ kind: 'port-restricted', nat: { keepalive: { learn: false } } });
      late.nat.relayClient.setCandidates([infra[1].peer, infra[2].peer]);
      late.nat.relayClient.setWanted(true);
      await world.clock.run(1500);
      assert.equal(late.nat.relayClient.relays.length, 0, 'refused while relaying is off');
      infra[1].nat.relayServer.setEnabled(true);
      infra[2].nat.relayServer.setEnabled(true);
      await world.clock.run(3000);
      assert.equal(late.nat.relayClient.relays.length, 2, 'both reserved once they relay');
    } finally {
      await world.close();
    }
  });
});
