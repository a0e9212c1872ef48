import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimNetwork } from '../../src/transport/sim/index.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';
import { connectPair, patternBytes, readAll, writeAll } from './helpers.js';
import type { TunnelStream } from '../../src/tunnel/stream.js';

async function runUntil<T>(clock: VirtualClock, promise: Promise<T>, maxMs: number): Promise<T> {
  let done = false;
  let value: T | undefined;
  let failure: unknown;
  promise.then(
    (v) => {
      done = true;
      value = v;
    },
    (e) => {
      done = true;
      failure = e;
    },
  );
  const deadline = clock.now() + maxMs;
  while (!done && clock.now() < deadline) await clock.run(5);
  if (failure !== undefined) throw failure as Error;
  if (!done) throw new Error(`not done within ${maxMs} virtual ms`);
  return value as T;
}

test('lossless simulated link: 1 MB echo through one stream', async () => {
  const clock = new VirtualClock();
  const network = new SimNetwork({ clock, seed: 7, defaultLink: { latencyMs: 10 } });
  const pair = await connectPair(network.createTransport(), network.createTransport(), clock);
  pair.serverConnection.on('stream', (s: TunnelStream) => s.pipe(s));
  const data = patternBytes(1_000_000);
  const stream = pair.clientConnection.openStream();
  const received = readAll(stream);
  void writeAll(stream, data);
  const echoed = await runUntil(clock, received, 60_000);
  assert.equal(echoed.length, data.length);
  assert.ok(echoed.equals(data));
  await pair.close();
  await clock.run(500); // let datagrams still in flight on the simulated links land
  assert.equal(clock.pending, 0, 'no timer left behind');
});

test('5% loss, reordering and duplication: data arrives intact and in order on every stream', async () => {
  const clock = new VirtualClock();
  const network = new SimNetwork({ clock, seed: 42, defaultLink: { latencyMs: 20, jitterMs: 5, loss: 0.05, duplicate: 0.05, reorder: 0.05 } });
  const pair = await connectPair(network.createTransport(), network.createTransport(), clock);
  pair.serverConnection.on('stream', (s: TunnelStream) => s.pipe(s));
  const streams = [0, 1, 2, 3].map((i) => {
    const data = patternBytes(300_000 + i * 1000, i + 1);
    const stream = pair.clientConnection.openStream();
    const received = readAll(stream);
    void writeAll(stream, data, 10_000);
    return received.then((echoed) => ({ echoed, data }));
  });
  const results = await runUntil(clock, Promise.all(streams), 600_000);
  for (const { echoed, data } of results) {
    assert.equal(echoed.length, data.length);
    assert.ok(echoed.equals(data), 'byte-exact and in order');
  }
  const stats = pair.clientConnection.core.stats;
  assert.ok(stats.framesLost > 0, 'the link really lost packets');
  assert.ok(stats.duplicates + pair.serverConnection.core.stats.duplicates > 0, 'the link really duplicated packets');
  await pair.close();
  await clock.run(500); // let datagrams still in flight on the simulated links land
  assert.equal(clock.pending, 0);
});

test('a 3 s blackout mid-transfer: persistent congestion collapses the window, then the data still arrives intact', async () => {
  const clock = new VirtualClock();
  const network = new SimNetwork({ clock, seed: 3, defaultLink: { latencyMs: 10 } });
  const clientTransport = network.createTransport();
  const serverTransport = network.createTransport();
  const pair = await connectPair(clientTransport, serverTransport, clock);
  pair.serverConnection.on('stream', (s: TunnelStream) => s.pipe(s));
  const data = patternBytes(4_000_000, 9);
  const stream = pair.clientConnection.openStream();
  const received = readAll(stream);
  void writeAll(stream, data);
  await clock.run(150); // mid-transfer, window open
  const hosts = [clientTransport.localAddress().host, serverTransport.localAddress().host] as const;
  network.setLink(hosts[0], hosts[1], { latencyMs: 10, loss: 1 });
  await clock.run(3000);
  network.setLink(hosts[0], hosts[1], { latencyMs: 10 });
  const echoed = await runUntil(clock, received, 120_000);
  assert.ok(echoed.equals(data), 'byte-exact and in order');
  const stats = pair.clientConnection.core.stats;
  assert.ok(stats.probes > 0, 'probe timeouts fired during the blackout');
  assert.ok(stats.framesLost > 0, 'the blackout lost packets');
  assert.ok(stats.persistentCongestion >= 1, `persistent congestion declared (stats ${JSON.stringify(stats)})`);
  await pair.close();
  await clock.run(500);
  assert.equal(clock.pending, 0);
});
