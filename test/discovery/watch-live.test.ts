/**
 * Live watch on the simulated network (real MccNodes, virtual clock): the first events are
 * the existing providers, a register or unregister elsewhere arrives within one round trip,
 * holder churn re-subscribes, and with no holder accepting the watch falls back to polling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestnet, type Testnet } from '../../src/testing/index.js';
import type { MccNode } from '../../src/index.js';
import type { WatchEvent } from '../../src/discovery/watch.js';
import { serviceKey } from '../../src/discovery/service-name.js';
import { compareDistance } from '../../src/kademlia/keyspace.js';

const LATENCY = 10; // one-way, ms
const RTT = 2 * LATENCY;

interface Seen {
  type: WatchEvent['type'];
  id: string;
  at: number;
}

/** Consumes `node.watch(name)` in the background, recording each event with the virtual time it arrived. */
function record(testnet: Testnet, node: MccNode, name: string, options: { live?: boolean; intervalMs?: number } = {}) {
  const controller = new AbortController();
  const seen: Seen[] = [];
  const done = (async () => {
    for await (const event of node.watch(name, { ...options, signal: controller.signal })) {
      seen.push({ type: event.type, id: event.provider.id, at: testnet.clock.now() });
    }
  })();
  return {
    seen,
    stop: async () => {
      controller.abort();
      await testnet.run(done, 10_000);
    },
    find: (type: WatchEvent['type'], id: string) => seen.find((event) => event.type === type && event.id === id),
  };
}

test('live watch on the simulator: existing providers first, then register and unregister within one round trip', async (t) => {
  const testnet = await createTestnet({ size: 12, latency: LATENCY, seed: 11 });
  t.after(() => testnet.stop());
  const [watcher, provider, existing] = testnet.nodes;
  await testnet.run(existing.register('svc', { handler: (stream) => stream.end() }));

  const watch = record(testnet, watcher, 'svc');
  assert.ok(await testnet.until(() => watch.find('added', existing.idHex) !== undefined, 30_000), 'the existing provider is reported first');
  assert.deepEqual(
    watch.seen.map((event) => event.type),
    ['added'],
  );
  const stats = watcher.discovery.liveWatchStats();
  assert.equal(stats.length, 1);
  assert.equal(stats[0].live, true, 'a holder accepted the subscription');
  const lookupsBefore = stats[0].lookups;

  const registerStart = testnet.clock.now();
  const registration = await testnet.run(provider.register('svc', { handler: (stream) => stream.end(), metadata: { v: 1 } }));
  const registered = testnet.clock.now();
  assert.ok(await testnet.until(() => watch.find('added', provider.idHex) !== undefined, 10_000));
  const added = watch.find('added', provider.idHex)!;
  console.log(`register: event ${added.at - registerStart} ms after register() was called, ${added.at - registered} ms after it resolved (RTT ${RTT} ms)`);
  assert.ok(added.at <= registered + RTT, `added at ${added.at}, register resolved at ${registered}`);

  await testnet.run(registration.update({ v: 2 }));
  const updatedDone = testnet.clock.now();
  assert.ok(await testnet.until(() => watch.find('updated', provider.idHex) !== undefined, 10_000));
  assert.ok(watch.find('updated', provider.idHex)!.at <= updatedDone + RTT);

  await testnet.run(registration.unregister());
  const unregistered = testnet.clock.now();
  assert.ok(await testnet.until(() => watch.find('removed', provider.idHex) !== undefined, 10_000));
  const removed = watch.find('removed', provider.idHex)!;
  console.log(`unregister: event ${removed.at - unregistered} ms after unregister() resolved`);
  assert.ok(removed.at <= unregistered + RTT, `removed at ${removed.at}, unregister resolved at ${unregistered}`);

  // Pushed, not polled: no lookup ran for these three changes.
  assert.equal(watcher.discovery.liveWatchStats()[0].lookups, lookupsBefore);
  assert.ok(watcher.discovery.liveWatchStats()[0].pushes >= 3);
  await watch.stop();
  assert.equal(watcher.discovery.liveWatchStats().length, 0, 'the watch ended');
});

test('live watch: a crashed provider is removed once its record expires (holders notice, the watcher re-checks)', async (t) => {
  const testnet = await createTestnet({ size: 8, latency: LATENCY, seed: 12 });
  t.after(() => testnet.stop());
  const [watcher, provider] = testnet.nodes;
  await testnet.run(provider.register('svc', { handler: (stream) => stream.end(), ttl: 10_000 }));
  const watch = record(testnet, watcher, 'svc');
  assert.ok(await testnet.until(() => watch.find('added', provider.idHex) !== undefined, 30_000));
  // A crash: records stop being republished and nothing is withdrawn.
  await testnet.run(provider.discovery.stop({ withdraw: false }));
  const crashed = testnet.clock.now();
  assert.ok(await testnet.until(() => watch.find('removed', provider.idHex) !== undefined, 60_000), 'removed after expiry');
  const removed = watch.find('removed', provider.idHex)!;
  console.log(`crash: removed ${removed.at - crashed} ms after the last publish (TTL 10000 ms)`);
  await watch.stop();
});

test('live watch: holders that leave are replaced and changes keep arriving', async (t) => {
  const testnet = await createTestnet({ size: 16, latency: LATENCY, seed: 13 });
  t.after(() => testnet.stop());
  const watcher = testnet.nodes[0];
  const watch = record(testnet, watcher, 'svc');
  assert.ok(await testnet.until(() => watcher.discovery.liveWatchStats()[0]?.live === true, 30_000));
  // Stop every node holding our subscription; the provider is one of the others.
  const holders = [...testnet.nodes, ...testnet.bootstrap].filter((node) => node.liveWatch.table.stats().subscriptions > 0);
  assert.equal(holders.length, 3);
  assert.ok(!holders.includes(watcher), 'the watcher subscribes at others');
  const provider = testnet.nodes.find((node) => node !== watcher && !holders.includes(node))!;
  const holderLookups = watcher.discovery.liveWatchStats()[0].holderLookups;
  await testnet.run(Promise.all(holders.map((holder) => holder.stop())), 30_000);
  // The next renewal (at most 70% of the 60 s lease) finds them gone and subscribes elsewhere.
  const subscribedAt = () => [...testnet.nodes, ...testnet.bootstrap].filter((node) => node.running && node.liveWatch.table.stats().subscriptions > 0);
  assert.ok(await testnet.until(() => subscribedAt().length >= 1, 120_000), 'new holders took the subscription');
  assert.ok(watcher.discovery.liveWatchStats()[0].holderLookups > holderLookups, 'found by a new lookup of the closest nodes');
  assert.equal(watcher.discovery.liveWatchStats()[0].live, true);
  await testnet.run(provider.register('svc', { handler: (stream) => stream.end() }));
  const registered = testnet.clock.now();
  assert.ok(await testnet.until(() => watch.find('added', provider.idHex) !== undefined, 10_000));
  assert.ok(watch.find('added', provider.idHex)!.at <= registered + RTT);
  await watch.stop();
});

test('live watch: with no holder accepting, it polls (and the polling watch still works)', async (t) => {
  // One subscription per key at most: the second watcher is refused everywhere and polls.
  const testnet = await createTestnet({ size: 6, latency: LATENCY, seed: 14 });
  t.after(() => testnet.stop());
  for (const node of [...testnet.nodes, ...testnet.bootstrap]) node.liveWatch.table.limits.maxPerKey = 0;
  const [watcher, provider] = testnet.nodes;
  const watch = record(testnet, watcher, 'svc', { intervalMs: 1_000 });
  assert.ok(await testnet.until(() => (watcher.discovery.liveWatchStats()[0]?.lookups ?? 0) >= 1, 30_000));
  assert.equal(watcher.discovery.liveWatchStats()[0].live, false);
  const refused = [...testnet.nodes, ...testnet.bootstrap].reduce((sum, node) => sum + node.liveWatch.table.stats().refused.limit, 0);
  assert.ok(refused >= 1, 'holders refused at their bound');
  await testnet.run(provider.register('svc', { handler: (stream) => stream.end() }));
  const registered = testnet.clock.now();
  assert.ok(await testnet.until(() => watch.find('added', provider.idHex) !== undefined, 10_000));
  const delay = watch.find('added', provider.idHex)!.at - registered;
  console.log(`fallback polling at 1 s: added ${delay} ms after register resolved`);
  assert.ok(watcher.discovery.liveWatchStats()[0].lookups >= 2, 'found by a poll');
  await watch.stop();

  const polled = record(testnet, watcher, 'svc', { live: false, intervalMs: 1_000 });
  assert.ok(await testnet.until(() => polled.find('added', provider.idHex) !== undefined, 10_000));
  assert.equal(watcher.discovery.liveWatchStats().length, 0, 'live: false runs no live watch');
  await polled.stop();
});

test('live watch: a watcher behind a port-restricted NAT gets pushes through the mapping its renewals keep open', async (t) => {
  const testnet = await createTestnet({ size: 3, nat: ['port-restricted', 'none', 'none'], latency: LATENCY, seed: 15 });
  t.after(() => testnet.stop());
  const [watcher, provider] = testnet.nodes;
  const watch = record(testnet, watcher, 'svc');
  assert.ok(await testnet.until(() => watcher.discovery.liveWatchStats()[0]?.live === true, 30_000));
  // Several lease renewals later (each keeps the NAT mapping towards every holder open).
  await testnet.run(new Promise<void>((resolve) => testnet.clock.setTimeout(resolve, 150_000)), 200_000);
  await testnet.run(provider.register('svc', { handler: (stream) => stream.end() }));
  const registered = testnet.clock.now();
  assert.ok(await testnet.until(() => watch.find('added', provider.idHex) !== undefined, 10_000));
  const added = watch.find('added', provider.idHex)!;
  console.log(`behind NAT: added ${added.at - registered} ms after register resolved`);
  assert.ok(added.at <= registered + RTT);
  assert.equal(watcher.discovery.liveWatchStats()[0].live, true);
  await watch.stop();
});

test('live watch: two watches of one name on one node share the holders; ending one leaves the other live', async (t) => {
  const testnet = await createTestnet({ size: 8, latency: LATENCY, seed: 16 });
  t.after(() => testnet.stop());
  const [watcher, provider] = testnet.nodes;
  const first = record(testnet, watcher, 'svc');
  const second = record(testnet, watcher, 'svc');
  assert.ok(await testnet.until(() => watcher.discovery.liveWatchStats().length === 2 && watcher.discovery.liveWatchStats().every((s) => s.live), 30_000));
  await first.stop();
  const lookups = watcher.discovery.liveWatchStats()[0].lookups;
  await testnet.run(provider.register('svc', { handler: (stream) => stream.end() }));
  const registered = testnet.clock.now();
  assert.ok(await testnet.until(() => second.find('added', provider.idHex) !== undefined, 10_000));
  assert.ok(second.find('added', provider.idHex)!.at <= registered + RTT, 'still pushed at once');
  assert.equal(watcher.discovery.liveWatchStats()[0].lookups, lookups, 'no resync was needed');
  await second.stop();
});

test('live watch: nodes that join nearer to the key take over the subscription at the periodic holder lookup', async (t) => {
  const testnet = await createTestnet({ size: 6, latency: LATENCY, seed: 17 });
  t.after(() => testnet.stop());
  const [watcher, provider] = testnet.nodes;
  const watch = record(testnet, watcher, 'svc');
  assert.ok(await testnet.until(() => watcher.discovery.liveWatchStats()[0]?.live === true, 30_000));
  const holdersBefore = new Set([...testnet.nodes, ...testnet.bootstrap].filter((node) => node.liveWatch.table.stats().subscriptions > 0));
  for (let i = 0; i < 24; i++) await testnet.add();
  const lookups = watcher.discovery.liveWatchStats()[0].holderLookups;
  // The holder set is looked up again every 10 minutes.
  assert.ok(await testnet.until(() => watcher.discovery.liveWatchStats()[0].holderLookups > lookups, 11 * 60_000));
  await testnet.run(new Promise<void>((resolve) => testnet.clock.setTimeout(resolve, 1_000)));
  // The subscriptions sit at the three nodes nearest the key now (the watcher aside), newcomers or not.
  const everyone = [...testnet.nodes, ...testnet.bootstrap];
  const key = serviceKey(watcher.crypto, 'svc');
  const nearest = everyone
    .filter((node) => node !== watcher)
    .sort((a, b) => compareDistance(watcher.kad.positions.of(a.id), watcher.kad.positions.of(b.id), key))
    .slice(0, 3);
  const holdersAfter = everyone.filter((node) => node.liveWatch.table.stats().subscriptions > 0);
  assert.deepEqual(new Set(holdersAfter), new Set(nearest));
  const moved = nearest.filter((node) => !holdersBefore.has(node)).length;
  console.log(`holder refresh: ${moved} of the 3 nearest nodes joined after the watch started`);
  await testnet.run(provider.register('svc', { handler: (stream) => stream.end() }));
  const registered = testnet.clock.now();
  assert.ok(await testnet.until(() => watch.find('added', provider.idHex) !== undefined, 10_000));
  assert.ok(watch.find('added', provider.idHex)!.at <= registered + RTT);
  await watch.stop();
});
