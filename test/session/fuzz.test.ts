import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MccNode } from '../../src/index.js';
import { RawPeer } from '../helpers/raw-peer.js';
import { encodeEnvelope } from '../../src/wire/codec.js';

const TOTAL = 100_000;
const BATCH = 500;

/** Deterministic PRNG so a failure can be replayed (mulberry32). */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test(`fuzz: ${TOTAL} random and mutated-valid datagrams never crash a node, which keeps answering with bounded memory`, async (t) => {
  const target = await MccNode.create({ host: '127.0.0.1' });
  const pinger = await MccNode.create({ host: '127.0.0.1' });
  await Promise.all([target.start(), pinger.start()]);
  t.after(() => Promise.all([target.stop(), pinger.stop()]));
  const fuzzer = await RawPeer.open();
  t.after(() => fuzzer.close());
  await pinger.ping(target.address);

  const random = prng(0x5eed);
  const valid = [
    fuzzer.seal(target.id, { rid: 1, ping: {}, padding: new Uint8Array(200) }),
    fuzzer.seal(target.id, { rid: 2, ping: {} }),
    fuzzer.seal(target.id, { rid: 3, pong: { observed: { ip: new Uint8Array(4), port: 1 } }, response: true }),
  ];
  const envelopeSample = encodeEnvelope({ version: 1, rid: 9, ping: {} });
  const makeDatagram = (i: number): Uint8Array => {
    const choice = random();
    if (choice < 0.25) return randomBytes(1 + Math.floor(random() * 1300)); // pure garbage
    if (choice < 0.35) {
      // garbage that looks like a session datagram (right kind byte, random sender)
      const d = randomBytes(49 + Math.floor(random() * 300));
      d[0] = 0x11;
      return d;
    }
    if (choice < 0.45) {
      // authentic datagrams whose plaintext is mutated protobuf (exercises the decoder)
      const plain = envelopeSample.slice();
      plain[Math.floor(random() * plain.length)] ^= 1 + Math.floor(random() * 255);
      return fuzzer.sealBytes(target.id, random() < 0.5 ? plain : randomBytes(Math.floor(random() * 200)));
    }
    // mutated valid datagrams: bit flips, truncation, extension, replay
    const base = valid[i % valid.length];
    const d = base.slice();
    const mutation = random();
    if (mutation < 0.4) d[Math.floor(random() * d.length)] ^= 1 << Math.floor(random() * 8);
    else if (mutation < 0.6) return d.subarray(0, Math.floor(random() * d.length));
    else if (mutation < 0.8) return Buffer.concat([d, randomBytes(1 + Math.floor(random() * 64))]);
    return d; // replay
  };

  const heapBefore = process.memoryUsage().heapUsed;
  let sent = 0;
  while (sent < TOTAL) {
    for (let i = 0; i < BATCH; i++) fuzzer.send(target.address, makeDatagram(sent + i));
    sent += BATCH;
    // Yield so the node drains its socket; every 10k datagrams, prove it still answers.
    await new Promise((resolve) => setImmediate(resolve));
    if (sent % 10_000 === 0) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      const pong = await pinger.ping(target.address);
      assert.equal(pong.id, target.idHex);
      assert.equal(target.stats().dropped.internal, 0, 'no internal exceptions so far');
    }
  }
  // The fuzzer's last datagram is a fresh, authentic ping: once its answer (a pong, or a cookie)
  // is back, the node has processed everything the fuzzer sent before it (one socket pair on
  // loopback keeps order). An event instead of a guessed sleep; bounded if the answer is lost.
  const LAST_RID = 0x7fff_fff0;
  fuzzer.send(target.address, fuzzer.seal(target.id, { rid: LAST_RID, ping: {}, padding: new Uint8Array(200) }));
  for (let i = 0; i < 20 && !fuzzer.received.some((r) => r.envelope?.rid === LAST_RID); i++) await fuzzer.waitFor(fuzzer.received.length + 1, 250);
  assert.ok(
    fuzzer.received.some((r) => r.envelope?.rid === LAST_RID),
    'the last ping was answered',
  );
  const stats = target.stats();
  assert.ok(stats.datagramsIn > TOTAL * 0.5, `the node saw ${stats.datagramsIn} datagrams`);
  assert.ok(stats.droppedTotal > TOTAL * 0.4, `drops are counted: ${JSON.stringify(stats.dropped)}`);
  // Hostile input is dropped as malformed, unauthenticated, undecodable...; an exception
  // inside a decoder or handler is a bug and counted apart: there must be none.
  assert.equal(stats.dropped.internal, 0, `no internal exceptions on the receive path: ${JSON.stringify(stats.dropped)}`);
  global.gc?.();
  const growth = process.memoryUsage().heapUsed - heapBefore;
  assert.ok(growth < 64 * 1024 * 1024, `heap grew ${(growth / 1048576).toFixed(1)} MiB`);
  // Still serving after the storm.
  assert.equal((await pinger.ping(target.address)).id, target.idHex);
});
