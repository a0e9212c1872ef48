import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { MccNode } from '../../src/index.js';

// A short flood over real UDP on loopback: one source sends valid sealed requests from its
// own identity (each a fresh datagram, so each passes the AEAD and the replay window) and
// garbage, while a legitimate peer keeps asking. The budget must engage and be counted, and
// the legitimate peer must get every answer. bench/flood.ts runs the long version with figures.
test('a flood of sealed requests and garbage engages the request budget; a legitimate peer keeps getting answers', async (t) => {
  const victim = await MccNode.create({ host: '127.0.0.1', lan: false, requestBudget: { perAddress: { ratePerSecond: 100, burst: 200 } } });
  const attacker = await MccNode.create({ host: '127.0.0.1', lan: false, clientMode: true });
  const legit = await MccNode.create({ host: '127.0.0.1', lan: false, clientMode: true });
  await Promise.all([victim.start(), attacker.start(), legit.start()]);
  const raw = createSocket('udp4');
  await new Promise<void>((resolve) => raw.bind(0, '127.0.0.1', resolve));
  t.after(async () => {
    raw.close();
    await Promise.all([victim.stop(), attacker.stop(), legit.stop()]);
  });
  const target = { id: victim.id, address: victim.address };
  await legit.ping(victim.address);

  const legitAnswers: Array<Promise<unknown>> = [];
  for (let batch = 0; batch < 20; batch++) {
    for (let i = 0; i < 100; i++) {
      attacker.session.send(target, { rid: batch * 100 + i + 1, response: false, findNode: { target: randomBytes(32), clientMode: true } });
      const garbage = randomBytes(40 + ((batch * 7 + i) % 200));
      if (i % 2 === 0) garbage[0] = 0x11; // the session kind: a random sender asks for a key agreement
      raw.send(garbage, victim.address.port, victim.address.host);
    }
    legitAnswers.push(legit.rpc.request(target, { findNode: { target: randomBytes(32), clientMode: true } }, { timeoutMs: 10_000, retries: 5 }));
    await new Promise((resolve) => setImmediate(resolve));
  }
  // Every legitimate request is answered (retries allowed: the victim's socket may overflow under the flood).
  const outcomes = await Promise.allSettled(legitAnswers);
  assert.deepEqual(
    outcomes.filter((outcome) => outcome.status === 'rejected'),
    [],
  );
  // A last authentic round trip after the flood: the socket delivers in order, so every flood datagram was seen by now.
  assert.equal((await legit.ping(victim.address)).id, victim.idHex);
  const stats = victim.stats();
  assert.ok(stats.rateLimited.requestAddress > 0, `the address budget engaged: ${JSON.stringify(stats.rateLimited)}`);
  assert.equal(stats.rateLimited.requestNetwork, 0, 'no network bucket on loopback');
  assert.ok(stats.rateLimited.requestAddress <= 2000 - 200, 'at least the burst was admitted');
  assert.ok(
    stats.dropped.malformed + stats.dropped['rate-limited'] + stats.dropped.unauthenticated > 1000,
    `garbage counted: ${JSON.stringify(stats.dropped)}`,
  );
  assert.equal(stats.dropped.internal, 0);
});
