import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SimNatOptions } from '../../src/transport/sim/nat.js';
import { SimNetwork } from '../../src/transport/sim/network.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';
import { bindAll, collect } from './sim-helpers.js';

/** One inside host behind a NAT of the given kind, plus three public servers (s2 has two ports). */
async function world(nat: Omit<SimNatOptions, 'publicHost'> & { publicHost?: string }) {
  const clock = new VirtualClock();
  const network = new SimNetwork({ clock, seed: 3, defaultLink: { latencyMs: 5 } });
  const router = network.createNat(nat);
  const inside = network.createTransport({ nat: router });
  const s1 = network.createTransport();
  const s2 = network.createTransport();
  const s2b = network.createTransport({ host: undefined });
  const [insideAddress, a1, a2] = await bindAll(inside, s1, s2);
  const s2other = network.createTransport({ host: a2.host });
  const a2other = await s2other.bind();
  await s2b.bind();
  return {
    clock,
    network,
    router,
    inside,
    s1,
    s2,
    s2other,
    insideAddress: insideAddress,
    a1: a1,
    a2: a2,
    a2other,
    atInside: collect(inside, clock),
    atS1: collect(s1, clock),
    atS2: collect(s2, clock),
  };
}

const ping = new Uint8Array([1]);

describe('SimNat', () => {
  test('inside hosts get private addresses; the public side sees the NAT address', async () => {
    const w = await world({ type: 'full-cone' });
    assert.match(w.insideAddress.host, /^192\.168\.\d+\.\d+$/);
    assert.match(w.router.publicHost, /^10\./);
    w.inside.send(w.a1, ping);
    w.clock.advance(10);
    assert.equal(w.atS1.length, 1);
    assert.equal(w.atS1[0].from.host, w.router.publicHost);
    assert.equal(w.atS1[0].from.port, w.insideAddress.port, 'preserve is the default port strategy');
    assert.deepEqual(w.router.mappings(), [{ internal: w.insideAddress, external: w.atS1[0].from }]);
  });

  test('unsolicited inbound is filtered before any outbound', async () => {
    const w = await world({ type: 'full-cone' });
    w.s1.send({ host: w.router.publicHost, port: w.insideAddress.port }, ping);
    w.clock.advance(10);
    assert.equal(w.atInside.length, 0);
    assert.equal(w.network.stats.dropped['nat-filter'], 1);
  });

  test('full cone: after one outbound anyone may reach the mapping', async () => {
    const w = await world({ type: 'full-cone' });
    w.inside.send(w.a1, ping);
    w.clock.advance(10);
    const mapped = w.atS1[0].from;
    w.s2.send(mapped, new Uint8Array([2])); // a third party
    w.s1.send(mapped, new Uint8Array([3]));
    w.clock.advance(10);
    assert.deepEqual(
      w.atInside.map((r) => r.bytes[0]),
      [2, 3],
    );
    assert.deepEqual(w.atInside[0].from, w.a2, 'the inside host sees the real public source');
  });

  test('port-restricted: only exact ip:port the inside host sent to get in; the mapping is endpoint-independent', async () => {
    const w = await world({ type: 'port-restricted' });
    w.inside.send(w.a1, ping);
    w.clock.advance(10);
    const mapped = w.atS1[0].from;
    w.s2.send(mapped, new Uint8Array([2])); // third party: filtered
    w.s2other.send(mapped, new Uint8Array([3])); // same ip as s2, other port: filtered
    w.s1.send(mapped, new Uint8Array([4])); // the peer it talked to: passes
    w.clock.advance(10);
    assert.deepEqual(
      w.atInside.map((r) => r.bytes[0]),
      [4],
    );
    assert.equal(w.network.stats.dropped['nat-filter'], 2);

    w.inside.send(w.a2, ping); // now it has sent to s2 (but not to s2other)
    w.clock.advance(10);
    assert.deepEqual(w.atS2[0].from, mapped, 'same public port for every destination');
    w.s2.send(mapped, new Uint8Array([5]));
    w.s2other.send(mapped, new Uint8Array([6]));
    w.clock.advance(10);
    assert.deepEqual(
      w.atInside.map((r) => r.bytes[0]),
      [4, 5],
    );
  });

  test('symmetric: a different public port per destination, each only open to its destination', async () => {
    const w = await world({ type: 'symmetric' });
    w.inside.send(w.a1, ping);
    w.inside.send(w.a2, ping);
    w.clock.advance(10);
    const toS1 = w.atS1[0].from;
    const toS2 = w.atS2[0].from;
    assert.equal(toS1.host, toS2.host);
    assert.notEqual(toS1.port, toS2.port);
    w.inside.send(w.a1, ping);
    w.clock.advance(10);
    assert.deepEqual(w.atS1[1].from, toS1, 'the mapping is reused for the same destination');

    w.s2.send(toS1, new Uint8Array([2])); // s2 learned s1's view of the mapping: filtered
    w.s1.send(toS1, new Uint8Array([3]));
    w.s2.send(toS2, new Uint8Array([4]));
    w.clock.advance(10);
    assert.deepEqual(
      w.atInside.map((r) => r.bytes[0]),
      [3, 4],
    );
    assert.equal(w.router.mappings().length, 2);
  });

  test('symmetric with sequential ports allocates consecutive ports', async () => {
    const w = await world({ type: 'symmetric', portStrategy: 'sequential' });
    w.inside.send(w.a1, ping);
    w.inside.send(w.a2, ping);
    w.clock.advance(10);
    assert.equal(w.atS2[0].from.port, w.atS1[0].from.port + 1);
  });

  test('udp-blocked: only the allowed host passes, both ways', async () => {
    const clock = new VirtualClock();
    const network = new SimNetwork({ clock, seed: 3 });
    const relay = network.createTransport();
    const other = network.createTransport();
    const [relayAddress, otherAddress] = await bindAll(relay, other);
    const firewall = network.createNat({ type: 'udp-blocked', allowedHosts: [relayAddress.host] });
    const inside = network.createTransport({ nat: firewall });
    await inside.bind();
    const atRelay = collect(relay, clock);
    const atOther = collect(other, clock);
    const atInside = collect(inside, clock);
    inside.send(relayAddress, ping);
    inside.send(otherAddress, ping);
    clock.advance(20);
    assert.equal(atRelay.length, 1);
    assert.equal(atOther.length, 0);
    const mapped = atRelay[0].from;
    relay.send(mapped, new Uint8Array([7]));
    other.send(mapped, new Uint8Array([8]));
    clock.advance(20);
    assert.deepEqual(
      atInside.map((r) => r.bytes[0]),
      [7],
    );
    assert.equal(network.stats.dropped['nat-filter'], 2);
  });

  test('mappings expire after the idle timeout; outbound refreshes, inbound does not', async () => {
    const w = await world({ type: 'full-cone', mappingTimeoutMs: 1000 });
    w.inside.send(w.a1, ping);
    w.clock.advance(10);
    const mapped = w.atS1[0].from;
    // Inbound every 300 ms (arriving at 15, 315, 615, 915, 1215) does not keep it alive.
    for (let i = 0; i < 5; i++) {
      w.s1.send(mapped, new Uint8Array([i]));
      w.clock.advance(300);
    }
    assert.deepEqual(
      w.atInside.map((r) => r.bytes[0]),
      [0, 1, 2, 3],
      'the 5th arrives after expiry',
    );
    assert.equal(w.router.mappings().length, 0);

    // Outbound every 800 ms does.
    w.inside.send(w.a1, ping);
    w.clock.advance(10);
    const renewed = w.atS1.at(-1)!.from;
    for (let i = 0; i < 4; i++) {
      w.clock.advance(800);
      w.inside.send(w.a1, ping);
    }
    w.s2.send(renewed, new Uint8Array([9]));
    w.clock.advance(10);
    assert.equal(w.atInside.at(-1)!.bytes[0], 9);
  });

  test('port-restricted permissions expire with the mapping', async () => {
    const w = await world({ type: 'port-restricted', mappingTimeoutMs: 1000 });
    w.inside.send(w.a1, ping);
    w.clock.advance(10);
    const mapped = w.atS1[0].from;
    w.clock.advance(1500);
    w.inside.send(w.a2, ping); // a new mapping that never sent to s1
    w.clock.advance(10);
    w.s1.send(mapped, new Uint8Array([1]));
    w.clock.advance(10);
    assert.equal(w.atInside.length, 0);
  });

  test('LAN: hosts behind one NAT talk directly; private addresses of other LANs are unroutable; no hairpin', async () => {
    const clock = new VirtualClock();
    const network = new SimNetwork({ clock });
    const home = network.createNat({ type: 'port-restricted' });
    const office = network.createNat({ type: 'port-restricted' });
    const a = network.createTransport({ nat: home });
    const b = network.createTransport({ nat: home });
    const c = network.createTransport({ nat: office });
    const [addressA, addressB, addressC] = await bindAll(a, b, c);
    assert.equal(addressC.host, addressA.host, 'two LANs may reuse the same private address');
    const atA = collect(a, clock);
    const atB = collect(b, clock);
    const atC = collect(c, clock);
    b.send(addressA, ping);
    clock.advance(5);
    assert.deepEqual(atA[0].from, addressB, 'LAN traffic is not translated');
    c.send({ host: addressB.host, port: addressB.port }, ping); // office's private view of an address it does not have
    b.send({ host: home.publicHost, port: addressA.port }, ping); // hairpin
    clock.advance(5);
    assert.equal(atB.length, 0);
    assert.equal(atA.length, 1);
    assert.equal(atC.length, 0);
    assert.equal(network.stats.dropped['no-route'], 1);
    assert.equal(network.stats.dropped['nat-filter'], 1);
  });

  test('simultaneous hole punching between two port-restricted NATs succeeds', async () => {
    const clock = new VirtualClock();
    const network = new SimNetwork({ clock, defaultLink: { latencyMs: 20 } });
    const natA = network.createNat({ type: 'port-restricted' });
    const natB = network.createNat({ type: 'port-restricted' });
    const a = network.createTransport({ nat: natA });
    const b = network.createTransport({ nat: natB });
    const [addressA, addressB] = await bindAll(a, b);
    const atA = collect(a, clock);
    const atB = collect(b, clock);
    // With port preservation each side can predict the other's public endpoint (a rendezvous would tell them).
    a.send({ host: natB.publicHost, port: addressB.port }, new Uint8Array([1]));
    clock.advance(5);
    b.send({ host: natA.publicHost, port: addressA.port }, new Uint8Array([2]));
    clock.advance(50);
    assert.equal(atB.length, 1, "A's punch arrives after B opened its side");
    assert.equal(atA.length, 1);
    assert.equal(atB[0].from.host, natA.publicHost);
  });

  test('bad NAT options throw ERR_INVALID_ARGUMENT', () => {
    const network = new SimNetwork({ clock: new VirtualClock() });
    assert.throws(() => network.createNat({ type: 'weird' as never }), { code: 'ERR_INVALID_ARGUMENT' });
    assert.throws(() => network.createNat({ type: 'full-cone', mappingTimeoutMs: 0 }), { code: 'ERR_INVALID_ARGUMENT' });
    const nat = network.createNat({ type: 'full-cone', publicHost: '10.9.9.9' });
    assert.throws(() => network.createNat({ type: 'full-cone', publicHost: '10.9.9.9' }), { code: 'ERR_INVALID_ARGUMENT' });
    assert.throws(() => network.createTransport({ host: nat.publicHost }), { code: 'ERR_INVALID_ARGUMENT' });
    const foreign = new SimNetwork().createNat({ type: 'full-cone' });
    assert.throws(() => network.createTransport({ nat: foreign }), { code: 'ERR_INVALID_ARGUMENT' });
  });
});
