import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SimNetwork } from '../../src/transport/sim/network.js';
import type { LinkProfile } from '../../src/transport/sim/link.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';
import { bindAll, collect } from './sim-helpers.js';

/** A network with two bound public transports and a receive log at b. */
async function pair(defaultLink: Partial<LinkProfile>, seed = 7) {
  const clock = new VirtualClock();
  const network = new SimNetwork({ clock, seed, defaultLink });
  const a = network.createTransport();
  const b = network.createTransport();
  const [addressA, addressB] = await bindAll(a, b);
  return { clock, network, a, b, addressA: addressA, addressB: addressB, atB: collect(b, clock) };
}

describe('SimNetwork links', () => {
  test('latency is respected under the virtual clock and the source is the sender', async () => {
    const { clock, a, addressA, addressB, atB, network } = await pair({ latencyMs: 30 });
    assert.match(addressA.host, /^10\.\d+\.\d+\.\d+$/);
    const payload = new Uint8Array([1, 2, 3]);
    a.send(addressB, payload);
    payload[0] = 99; // the network copied it
    clock.advance(29.9);
    assert.equal(atB.length, 0);
    clock.advance(0.1);
    assert.deepEqual(atB, [{ time: 30, bytes: [1, 2, 3], from: addressA }]);
    assert.equal(network.stats.delivered, 1);
    assert.equal(network.stats.bytesDelivered, 3);
  });

  test('loss rate is near the setting (fixed seed)', async () => {
    const { clock, a, addressB, atB, network } = await pair({ latencyMs: 1, loss: 0.2 });
    const n = 10_000;
    for (let i = 0; i < n; i++) a.send(addressB, new Uint8Array([i & 255]));
    clock.advance(10);
    const lossRate = 1 - atB.length / n;
    assert.ok(Math.abs(lossRate - 0.2) < 0.02, `loss rate ${lossRate}`);
    assert.equal(network.stats.dropped.loss, n - atB.length);
    assert.equal(a.counters.sent, n);
  });

  test('duplication delivers extra copies at about the configured rate', async () => {
    const { clock, a, addressB, atB, network } = await pair({ latencyMs: 1, duplicate: 0.1 });
    const n = 5000;
    for (let i = 0; i < n; i++) a.send(addressB, new Uint8Array([i & 255, i >> 8]));
    clock.advance(10);
    const extra = atB.length - n;
    assert.equal(extra, network.stats.duplicated);
    assert.ok(Math.abs(extra / n - 0.1) < 0.02, `duplicate rate ${extra / n}`);
    const distinct = new Set(atB.map((r) => r.bytes[0] + 256 * r.bytes[1]));
    assert.equal(distinct.size, n);
  });

  test('reordering lets later datagrams overtake; without it order is kept', async () => {
    const sendSequence = async (reorder: number) => {
      const { clock, a, addressB, atB } = await pair({ latencyMs: 20, reorder });
      for (let i = 0; i < 200; i++) {
        a.send(addressB, new Uint8Array([i]));
        clock.advance(1);
      }
      clock.advance(200);
      return atB.map((r) => r.bytes[0]);
    };
    const inOrder = await sendSequence(0);
    assert.deepEqual(inOrder, [...Array(200).keys()]);
    const shuffled = await sendSequence(0.2);
    assert.equal(shuffled.length, 200);
    let inversions = 0;
    for (let i = 1; i < shuffled.length; i++) if (shuffled[i] < shuffled[i - 1]) inversions++;
    assert.ok(inversions > 10, `${inversions} inversions`);
    assert.deepEqual(
      [...shuffled].sort((x, y) => x - y),
      inOrder,
    );
  });

  test('bandwidth adds serialisation delay and a full queue drops', async () => {
    // 80 kbit/s: a 1000-byte datagram takes 100 ms to serialise.
    const { clock, a, addressB, atB, network } = await pair({ latencyMs: 10, bandwidthBps: 80_000 });
    for (let i = 0; i < 5; i++) a.send(addressB, new Uint8Array(1000).fill(i));
    clock.advance(1000);
    assert.deepEqual(
      atB.map((r) => r.time),
      [110, 210, 310, 410, 510],
    );

    const small = await pair({ latencyMs: 10, bandwidthBps: 80_000, queueBytes: 3000 });
    for (let i = 0; i < 10; i++) small.a.send(small.addressB, new Uint8Array(1000));
    small.clock.advance(2000);
    assert.equal(small.atB.length, 3);
    assert.equal(small.network.stats.dropped.queue, 7);
    assert.equal(network.stats.dropped.queue, 0);
  });

  test('same seed gives the same delivery trace; another seed does not', async () => {
    const trace = async (seed: number) => {
      const clock = new VirtualClock();
      const network = new SimNetwork({ clock, seed, defaultLink: { latencyMs: 10, jitterMs: 8, loss: 0.1, duplicate: 0.05, reorder: 0.1 } });
      const transports = Array.from({ length: 20 }, () => network.createTransport());
      const addresses = await bindAll(...transports);
      const events: string[] = [];
      transports.forEach((t, i) => t.onDatagram((data, from) => events.push(`${clock.now().toFixed(6)} ${i} ${from.host}:${from.port} ${[...data]}`)));
      for (let round = 0; round < 10; round++) {
        transports.forEach((t, i) => t.send(addresses[(i * 7 + round) % 20], new Uint8Array([i, round])));
        clock.advance(3);
      }
      clock.runUntilIdle();
      return events;
    };
    const first = await trace(1234);
    assert.ok(first.length > 150);
    assert.deepEqual(await trace(1234), first);
    assert.notDeepEqual(await trace(4321), first);
  });

  test('per-pair link overrides apply both ways; others keep the default', async () => {
    const clock = new VirtualClock();
    const network = new SimNetwork({ clock, defaultLink: { latencyMs: 5 } });
    const [a, b, c] = [network.createTransport(), network.createTransport(), network.createTransport()];
    const [addressA, addressB, addressC] = await bindAll(a, b, c);
    network.setLink(addressA.host, addressB.host, { latencyMs: 50 });
    assert.equal(network.getLink(addressB.host, addressA.host).latencyMs, 50);
    const atA = collect(a, clock);
    const atC = collect(c, clock);
    b.send(addressA, new Uint8Array([1]));
    b.send(addressC, new Uint8Array([2]));
    clock.advance(100);
    assert.equal(atA[0].time, 50);
    assert.equal(atC[0].time, 5);
  });

  test('drops are counted: no listener, no route, closed transport; bad sends are counted by the sender', async () => {
    const { clock, a, b, addressB, atB, network } = await pair({ latencyMs: 1 });
    a.send({ host: addressB.host, port: 1 }, new Uint8Array([1]));
    a.send({ host: '10.200.0.1', port: 1 }, new Uint8Array([1]));
    a.send({ host: 'nope', port: -3 }, new Uint8Array([1]));
    a.send(addressB, new Uint8Array([2]));
    await b.close();
    await b.close();
    clock.advance(5);
    assert.equal(atB.length, 0);
    assert.deepEqual(network.stats.dropped, { loss: 0, 'nat-filter': 0, 'no-listener': 2, queue: 0, 'no-route': 1 });
    assert.equal(a.counters.sendErrors, 1);
    assert.throws(() => b.localAddress(), { code: 'ERR_TRANSPORT' });
    await assert.rejects(b.bind(), { code: 'ERR_TRANSPORT' });
    // the port is free again
    const again = network.createTransport({ host: addressB.host, port: addressB.port });
    assert.deepEqual(await again.bind(), addressB);
  });

  test('binding a taken port rejects with ERR_TRANSPORT; send before bind is ignored', async () => {
    const { network, addressB, a } = await pair({});
    const clash = network.createTransport({ host: addressB.host, port: addressB.port });
    await assert.rejects(clash.bind(), { code: 'ERR_TRANSPORT' });
    const unbound = network.createTransport();
    unbound.send(a.localAddress(), new Uint8Array([1]));
    assert.equal(network.stats.sent, 0);
    assert.throws(() => network.createTransport({ port: 1.5 }), { code: 'ERR_INVALID_ARGUMENT' });
    assert.throws(() => network.setLink('a', 'b', { loss: 2 }), { code: 'ERR_INVALID_ARGUMENT' });
  });

  test('the tap sees sends, deliveries and drops', async () => {
    const { clock, a, addressB, network } = await pair({ latencyMs: 2 });
    const kinds: string[] = [];
    network.tap = (event) => kinds.push(event.reason ? `${event.kind}:${event.reason}` : event.kind);
    a.send(addressB, new Uint8Array([1]));
    a.send({ host: addressB.host, port: 9 }, new Uint8Array([1]));
    clock.advance(5);
    assert.deepEqual(kinds, ['send', 'send', 'deliver', 'drop:no-listener']);
  });

  test('works on the real clock by default', async () => {
    const network = new SimNetwork({ defaultLink: { latencyMs: 1 } });
    const [a, b] = [network.createTransport(), network.createTransport()];
    const [, addressB] = await bindAll(a, b);
    const got = new Promise<number[]>((resolve) => b.onDatagram((data) => resolve([...data])));
    a.send(addressB, new Uint8Array([42]));
    assert.deepEqual(await got, [42]);
    await Promise.all([a.close(), b.close()]);
  });
});
