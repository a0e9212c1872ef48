/** Registration lifecycle, name and argument validation, and watch, on a small simulated network. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Discovery, serviceKey, type WatchEvent } from '../../src/discovery/index.js';
import { KEY_NAMESPACE, immutableKey, mutableKey, namespacedKey } from '../../src/kademlia/keyspace.js';
import { MccError } from '../../src/errors.js';
import { DiscoverySim } from './sim.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

function rejectsWith(argument: string) {
  return (error: unknown) => error instanceof MccError && error.code === 'ERR_INVALID_ARGUMENT' && error.details?.argument === argument;
}

test('names and arguments are validated with typed errors', async () => {
  const sim = new DiscoverySim({ seed: 2 });
  const [node] = sim.build(3);
  const d = node.discovery;
  for (const bad of ['', 'é'.repeat(128), 'a\uD800b', 42, undefined]) {
    await assert.rejects(d.register(bad as string), rejectsWith('name'));
    await assert.rejects(d.lookup(bad as string), rejectsWith('name'));
    assert.throws(() => d.watch(bad as string), rejectsWith('name'));
  }
  await assert.rejects(d.register('svc', { metadata: { blob: 'x'.repeat(600) } }), rejectsWith('metadata'));
  await assert.rejects(d.register('svc', { metadata: { n: 1n } as never }), rejectsWith('metadata'));
  await assert.rejects(d.register('svc', { ttl: 5 }), rejectsWith('ttl'));
  await assert.rejects(d.lookup('svc', { limit: 0 }), rejectsWith('limit'));
  assert.throws(() => d.watch('svc', { intervalMs: 1 }), rejectsWith('intervalMs'));
  await sim.until(d.register('é'.repeat(127)));
  await sim.until(d.register('svc'));
  await assert.rejects(d.register('svc'), rejectsWith('name'));
  // Service keys live in their own namespace.
  const suite = sim.kad.suite;
  const name = new TextEncoder().encode('svc');
  assert.deepEqual(serviceKey(suite, 'svc'), namespacedKey(suite, KEY_NAMESPACE.service, name));
  assert.notDeepEqual(serviceKey(suite, 'svc'), immutableKey(suite, name));
  assert.notDeepEqual(serviceKey(suite, 'svc'), namespacedKey(suite, KEY_NAMESPACE.immutable, name));
  assert.notDeepEqual(serviceKey(suite, 'svc'), mutableKey(suite, name.subarray(0, 3)));
  await sim.stop();
});

test('republishes before expiry, retries while unreachable, re-registers when the network returns', async () => {
  const sim = new DiscoverySim({ seed: 3, latencyMs: 5 });
  const nodes = sim.build(10);
  const [provider, reader] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
  const reg = await sim.until(provider.discovery.register('svc', { ttl: 20_000, metadata: { hello: 1 } }));
  assert.equal(reg.state, 'published');
  const firstSeq = reg.lastRecord!.seq;
  await sim.advance(120_000); // six TTLs
  const found = await sim.until(reader.discovery.lookup('svc', { fresh: true }));
  assert.equal(found.length, 1);
  assert.ok(found[0].seq > firstSeq, 'republished with a higher seq');
  assert.deepEqual(found[0].metadata, { hello: 1 });

  sim.kad.hub.setOnline(provider.sim.contact.id, false);
  await sim.advance(45_000);
  assert.equal(reg.state, 'retrying');
  assert.equal((await sim.until(reader.discovery.lookup('svc', { fresh: true }))).length, 0, 'expired while unreachable');
  sim.kad.hub.setOnline(provider.sim.contact.id, true);
  await sim.advance(10_000); // the retry back-off is capped at TTL / 4
  assert.equal(reg.state, 'published');
  assert.equal((await sim.until(reader.discovery.lookup('svc', { fresh: true }))).length, 1);
  await sim.stop();
});

test('update, unregister, restart with the same identity, and stop() withdrawing all', async () => {
  const sim = new DiscoverySim({ seed: 4, latencyMs: 5 });
  const nodes = sim.build(10);
  const [provider, reader] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
  const lookup = () => sim.until(reader.discovery.lookup('svc', { fresh: true }));
  const reg = await sim.until(provider.discovery.register('svc', { metadata: { v: 1 } }));
  await sim.until(reg.update({ v: 2 }));
  assert.deepEqual((await lookup())[0].metadata, { v: 2 });
  await sim.until(reg.unregister());
  assert.equal(provider.discovery.registration('svc'), undefined);
  assert.equal((await lookup()).length, 0);
  await assert.rejects(reg.update({ v: 3 }), (e: unknown) => e instanceof MccError && e.code === 'ERR_STOPPED');

  // Restart: a new Discovery with the same key pair (its seq counter starts afresh) supersedes the old records.
  await sim.until(provider.discovery.register('svc', { metadata: { v: 'before restart' } }));
  await provider.discovery.stop({ withdraw: false });
  await sim.advance(1);
  const restarted = new Discovery({
    dht: provider.sim.dht,
    suite: sim.kad.suite,
    keyPair: provider.keyPair,
    clock: sim.kad.clock,
    wallClock: sim.kad.wallClock,
    selfInfo: () => ({ addresses: [provider.sim.contact.address], relays: [] }),
  });
  await sim.until(restarted.register('svc', { metadata: { v: 'after restart' } }));
  await sim.until(restarted.register('svc2'));
  const after = await lookup();
  assert.equal(after.length, 1);
  assert.deepEqual(after[0].metadata, { v: 'after restart' });

  await sim.until(restarted.stop());
  assert.equal((await lookup()).length, 0);
  assert.equal((await sim.until(reader.discovery.lookup('svc2', { fresh: true }))).length, 0);
  await assert.rejects(restarted.register('svc3'), (e: unknown) => e instanceof MccError && e.code === 'ERR_STOPPED');
  assert.equal(restarted.registeredNames().length, 0);
  await sim.stop();
});

test('watch reports adds, updates and removals in order, and ends on abort', async () => {
  const sim = new DiscoverySim({ seed: 6, latencyMs: 5 });
  const nodes = sim.build(10);
  const [a, b, c, watcher] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
  const id = (n: (typeof nodes)[0]) => hex(n.keyPair.publicKey);
  const regA = await sim.until(a.discovery.register('svc', { metadata: { v: 1 } }));
  const regB = await sim.until(b.discovery.register('svc'));
  const controller = new AbortController();
  const events: WatchEvent[] = [];
  const consumer = (async () => {
    for await (const event of watcher.discovery.watch('svc', { intervalMs: 1_000, signal: controller.signal })) events.push(event);
    return 'ended';
  })();
  await sim.advance(1_500);
  await sim.until(regA.update({ v: 2 }));
  await sim.advance(1_500);
  await sim.until(c.discovery.register('svc'));
  await sim.advance(1_500);
  await sim.until(regB.unregister());
  await sim.advance(1_500);
  await sim.advance(3_000); // republishes (new seq, same content) are not updates
  controller.abort();
  assert.equal(await sim.until(consumer), 'ended');
  const added = [id(a), id(b)].sort();
  assert.deepEqual(
    events.map((e) => [e.type, e.provider.id]),
    [
      ['added', added[0]],
      ['added', added[1]],
      ['updated', id(a)],
      ['added', id(c)],
      ['removed', id(b)],
    ],
  );
  assert.deepEqual(events[2].provider.metadata, { v: 2 });
  await sim.stop();
});

test('a withdrawal that reached only this node (partitioned) is retried until the holders have it', async () => {
  const sim = new DiscoverySim({ seed: 8, latencyMs: 5 });
  const nodes = sim.build(10);
  const [provider, reader] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
  const lookup = () => sim.until(reader.discovery.lookup('svc', { fresh: true }));
  const reg = await sim.until(provider.discovery.register('svc', { ttl: 600_000 }));
  assert.equal(reg.state, 'published');
  assert.equal((await lookup()).length, 1);
  // Cut off, the provider unregisters: its withdrawal is stored by itself alone.
  sim.kad.hub.setOnline(provider.sim.contact.id, false);
  await sim.until(reg.unregister());
  assert.ok(reg.stored < 2, `the withdrawal reached only this node (stored ${reg.stored})`);
  sim.kad.hub.setOnline(provider.sim.contact.id, true);
  assert.equal((await lookup()).length, 1, 'the holders still serve the live record');
  await sim.advance(60_000); // the retry back-off, well within the record's 10 min
  assert.equal((await lookup()).length, 0, 'the retried withdrawal reached the holders');
  await sim.stop();
});
