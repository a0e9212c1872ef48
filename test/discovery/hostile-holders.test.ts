/**
 * Storing nodes that serve forged, expired, replayed-old, truncated, misplaced and
 * undecodable records next to the honest ones: a lookup returns exactly the honest, current
 * providers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateIdentity } from '../../src/crypto/identity.js';
import { encodeMetadata, encodeProviderValue, serviceKey } from '../../src/discovery/index.js';
import { signRecord } from '../../src/kademlia/record.js';
import type { SignedRecord } from '../../src/kademlia/types.js';
import { DiscoverySim } from './sim.js';

test('forged, expired, replayed-old, truncated and misplaced records are all rejected', async () => {
  const sim = new DiscoverySim({ latencyMs: 5, seed: 11, discovery: { quorum: 20, cacheMs: 0 } });
  try {
    const nodes = sim.build(12);
    const [a, b, c, reader] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
    const suite = sim.kad.suite;
    const key = serviceKey(suite, 'svc');
    const regA = await sim.until(a.discovery.register('svc', { metadata: { v: 1 } }));
    const regB = await sim.until(b.discovery.register('svc', { metadata: { v: 'b' } }));
    await sim.until(c.discovery.register('svc', { metadata: { v: 'c' } }));
    const oldA = regA.lastRecord!;
    const liveB = regB.lastRecord!;
    await sim.until(regA.update({ v: 2 }));
    await sim.until(regB.unregister());
    const currentA = regA.lastRecord!;

    const now = Math.floor(sim.kad.wallClock());
    const stranger = generateIdentity(suite);
    const value = encodeProviderValue({ addresses: [{ host: '10.0.0.9', port: 9 }], relays: [] }, encodeMetadata({ evil: true }));
    const evil: unknown[] = [
      // forged: A's record with other metadata and a higher seq, signature kept
      { ...currentA, seq: currentA.seq + 1000, value },
      // expired: validly signed, expiry in the past
      signRecord(suite, stranger, { key, seq: 1, expiresAt: now - 1, value }),
      // replayed old: A before its update, B before its withdrawal
      oldA,
      liveB,
      // truncated: signature, value and author cut short
      { ...currentA, signature: currentA.signature.subarray(0, 32) },
      { ...currentA, value: currentA.value.subarray(0, currentA.value.length - 3) },
      { ...currentA, author: currentA.author.subarray(0, 16) },
      // misplaced: validly signed for another service
      signRecord(suite, stranger, { key: serviceKey(suite, 'other'), seq: 1, expiresAt: now + 60_000, value }),
      // validly signed but not a provider record, or over the metadata limit
      signRecord(suite, stranger, { key, seq: 1, expiresAt: now + 60_000, value: Uint8Array.from([0xff, 0xff, 0xff, 0x01]) }),
      signRecord(suite, generateIdentity(suite), {
        key,
        seq: 1,
        expiresAt: now + 60_000,
        value: encodeProviderValue({ addresses: [], relays: [] }, new TextEncoder().encode(JSON.stringify('x'.repeat(600)))),
      }),
      // a record that claims to be B's, but newer and live (forged: B never signed it)
      { ...liveB, seq: liveB.seq + 5000 },
      null,
      { key },
      'garbage',
    ];
    let served = 0;
    for (const hostile of nodes.slice(4)) {
      const dht = hostile.sim.dht;
      hostile.sim.endpoint.attach({
        observe: (contact, options) => dht.observe(contact, options),
        handleFindNode: (from, target) => dht.handleFindNode(from, target),
        handleStore: (from, k, record, token) => dht.handleStore(from, k, record, token),
        handleFindValue: (from, k) => {
          const answer = dht.handleFindValue(from, k);
          served++;
          return { ...answer, records: [...(evil as SignedRecord[]), ...answer.records] };
        },
      });
    }
    const providers = await sim.until(reader.discovery.lookup('svc'));
    assert.ok(served >= 3, 'hostile holders were consulted');
    const byId = new Map(providers.map((p) => [p.id, p]));
    assert.deepEqual([...byId.keys()].sort(), [a, c].map((n) => Buffer.from(n.keyPair.publicKey).toString('hex')).sort());
    const providerA = byId.get(Buffer.from(a.keyPair.publicKey).toString('hex'))!;
    assert.deepEqual(providerA.metadata, { v: 2 });
    assert.equal(providerA.seq, currentA.seq);
  } finally {
    await sim.stop();
  }
});
