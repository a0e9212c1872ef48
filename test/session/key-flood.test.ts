import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSimMesh } from '../helpers/sim-mesh.js';
import { generateIdentity } from '../../src/crypto/identity.js';

test('forged datagrams from many spoofed sources neither evict real peers keys nor buy unbounded key agreements', async (t) => {
  const mesh = await createSimMesh({ seed: 5, link: { latencyMs: 1, jitterMs: 0 } });
  t.after(() => mesh.stop());
  const target = await mesh.addNode();
  const friend = await mesh.addNode();
  await mesh.drive(friend.ping(target.address));
  const keys = (target.session as unknown as { keys: { size: number } }).keys;
  const before = keys.size;
  // Valid sender public keys (so every datagram costs a key agreement) with random boot IDs,
  // from 250 source hosts: the per-source budget alone would not stop this.
  const senders = Array.from({ length: 20 }, () => generateIdentity().publicKey);
  const sources = Array.from({ length: 250 }, () => mesh.network.createTransport({}));
  await Promise.all(sources.map((source) => source.bind()));
  const rateLimitedBefore = target.stats().dropped['rate-limited'];
  for (let i = 0; i < 20_000; i++) {
    const datagram = new Uint8Array(120);
    datagram[0] = 0x11;
    datagram.set(senders[i % senders.length], 1);
    datagram.set(randomBytes(8), 33); // boot ID
    datagram.set(randomBytes(79), 41); // counter + garbage ciphertext
    sources[i % sources.length].send(target.address, datagram);
    if (i % 1000 === 999) await mesh.clock.run(20);
  }
  await mesh.clock.run(100);
  const stats = target.stats();
  assert.equal(keys.size, before, 'no forged (peer, boot) key was cached');
  assert.ok(stats.dropped['rate-limited'] - rateLimitedBefore > 15_000, `rate-limited ${stats.dropped['rate-limited']}`);
  assert.ok(stats.dropped.unauthenticated <= 2_500, `key agreements spent on forgeries: ${stats.dropped.unauthenticated}`);
  assert.equal(stats.dropped.internal, 0, 'a flood is dropped by the rules, never by an exception');
  assert.equal((await mesh.drive(friend.ping(target.address))).id, target.idHex, 'the real peer still gets through');
  await Promise.all(sources.map((source) => source.close()));
});
