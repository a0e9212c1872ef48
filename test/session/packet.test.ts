import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { MccError } from '../../src/errors.js';
import type { CryptoSuite } from '../../src/crypto/types.js';
import { nodeCryptoSuite } from '../../src/crypto/node-suite.js';
import { suites as availableSuites } from '../helpers/suites.js';
import { encodeEnvelope, decodeEnvelope } from '../../src/wire/codec.js';
import { MAX_DATAGRAM_SIZE, MAX_ENVELOPE_SIZE, SESSION_HEADER_SIZE, SESSION_OVERHEAD } from '../../src/wire/constants.js';
import { openSessionDatagram, parseSessionHeader, sealSessionDatagram } from '../../src/session/packet.js';
import { PeerKeyCache, computeSharedSecret, deriveSessionKey } from '../../src/session/keys.js';
import { bootIdTime, compareBootIds, newBootId } from '../../src/session/boot-id.js';

/** node and noble, and sodium where sodium-native loads. */
const suites: readonly CryptoSuite[] = availableSuites;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const code =
  (c: string) =>
  (err: unknown): boolean =>
    err instanceof MccError && err.code === c;

function identity(suite: CryptoSuite, fill: number) {
  const secretKey = new Uint8Array(32).fill(fill);
  return { secretKey, publicKey: suite.ed25519PublicKey(secretKey) };
}

for (const suite of suites) {
  const a = identity(suite, 1);
  const b = identity(suite, 2);
  const bootA = newBootId(suite, 1_700_000_000_000);
  const bootB = newBootId(suite, 1_700_000_000_500);
  const cacheA = new PeerKeyCache(suite, a);
  const cacheB = new PeerKeyCache(suite, b);
  const envelopeBytes = encodeEnvelope({ version: 1, rid: 7, ping: {} });
  const seal = (counter: number | bigint, bytes = envelopeBytes) =>
    sealSessionDatagram({ suite, senderId: a.publicKey, bootId: bootA, counter, key: cacheA.sendKey(b.publicKey, bootA), envelopeBytes: bytes });

  test(`[${suite.name}] both ends derive the same key per direction; directions and boots differ`, () => {
    assert.equal(hex(computeSharedSecret(suite, a.secretKey, b.publicKey)), hex(computeSharedSecret(suite, b.secretKey, a.publicKey)));
    assert.equal(hex(cacheA.sendKey(b.publicKey, bootA)), hex(cacheB.receiveKey(a.publicKey, bootA)));
    assert.equal(hex(cacheB.sendKey(a.publicKey, bootB)), hex(cacheA.receiveKey(b.publicKey, bootB)));
    assert.notEqual(hex(cacheA.sendKey(b.publicKey, bootA)), hex(cacheB.sendKey(a.publicKey, bootA)));
    assert.notEqual(hex(cacheA.sendKey(b.publicKey, bootA)), hex(cacheA.sendKey(b.publicKey, bootB)));
    const shared = computeSharedSecret(suite, a.secretKey, b.publicKey);
    assert.equal(hex(deriveSessionKey(suite, shared, a.publicKey, b.publicKey, bootA)), hex(cacheA.sendKey(b.publicKey, bootA)));
  });

  test(`[${suite.name}] seal, parse and open round-trip`, () => {
    const datagram = seal(42);
    assert.equal(datagram.length, SESSION_OVERHEAD + envelopeBytes.length);
    assert.equal(datagram[0], 0x11);
    const header = parseSessionHeader(datagram)!;
    assert.equal(hex(header.senderId), hex(a.publicKey));
    assert.equal(hex(header.bootId), hex(bootA));
    assert.equal(header.counter, 42n);
    // Receive keys are cached only once a datagram authenticated under them (forgeries cannot evict real peers).
    assert.equal(cacheB.hasReceiveKey(header.senderId, header.bootId), false);
    const key = cacheB.receiveKey(header.senderId, header.bootId);
    const plaintext = openSessionDatagram(suite, key, datagram);
    assert.ok(plaintext);
    cacheB.rememberReceiveKey(header.senderId, header.bootId, key);
    assert.ok(cacheB.hasReceiveKey(header.senderId, header.bootId));
    assert.equal(decodeEnvelope(plaintext).rid, 7);
  });

  test(`[${suite.name}] any altered byte, a wrong key or the reverse-direction key fails to open`, () => {
    const datagram = seal(1);
    const key = cacheB.receiveKey(a.publicKey, bootA);
    for (let i = 1; i < datagram.length; i++) {
      const altered = Uint8Array.from(datagram);
      altered[i] ^= 0x01;
      assert.equal(openSessionDatagram(suite, key, altered), null, `byte ${i}`);
    }
    assert.equal(openSessionDatagram(suite, cacheB.sendKey(a.publicKey, bootA), datagram), null);
    assert.equal(openSessionDatagram(suite, cacheB.receiveKey(a.publicKey, bootB), datagram), null);
    assert.equal(openSessionDatagram(suite, new Uint8Array(16), datagram), null);
    assert.equal(openSessionDatagram(suite, key, datagram.subarray(0, SESSION_OVERHEAD - 1)), null);
  });

  test(`[${suite.name}] size guard: 1135-byte envelopes fit exactly, larger throw ERR_DATAGRAM_TOO_LARGE`, () => {
    const full = seal(3, new Uint8Array(MAX_ENVELOPE_SIZE).fill(7));
    assert.equal(full.length, MAX_DATAGRAM_SIZE);
    assert.ok(openSessionDatagram(suite, cacheB.receiveKey(a.publicKey, bootA), full));
    assert.throws(() => seal(4, new Uint8Array(MAX_ENVELOPE_SIZE + 1)), code('ERR_DATAGRAM_TOO_LARGE'));
  });

  test(`[${suite.name}] counters cover the uint64 range; out-of-range counters are refused`, () => {
    const max = (1n << 64n) - 1n;
    for (const counter of [0n, 1n, 0xffffffffn, 0x100000000n, BigInt(Number.MAX_SAFE_INTEGER), max]) {
      const datagram = seal(counter);
      assert.equal(parseSessionHeader(datagram)!.counter, counter);
      assert.ok(openSessionDatagram(suite, cacheB.receiveKey(a.publicKey, bootA), datagram));
    }
    assert.equal(parseSessionHeader(seal(2 ** 40 + 5))!.counter, 2n ** 40n + 5n);
    for (const bad of [-1, 1.5, 2 ** 53, -1n, max + 1n]) assert.throws(() => seal(bad), code('ERR_INVALID_ARGUMENT'));
  });
}

test('parseSessionHeader returns null for malformed datagrams and never throws', () => {
  const suite = nodeCryptoSuite;
  const a = identity(suite, 1);
  const datagram = sealSessionDatagram({
    suite,
    senderId: a.publicKey,
    bootId: new Uint8Array(8),
    counter: 0,
    key: new Uint8Array(32),
    envelopeBytes: new Uint8Array(0),
  });
  assert.ok(parseSessionHeader(datagram));
  assert.equal(parseSessionHeader(new Uint8Array(0)), null);
  assert.equal(parseSessionHeader(datagram.subarray(0, SESSION_HEADER_SIZE)), null);
  assert.equal(parseSessionHeader(datagram.subarray(0, SESSION_OVERHEAD - 1)), null);
  for (const first of [0x12, 0x13, 0x21, 0x01, 0x00]) {
    const other = Uint8Array.from(datagram);
    other[0] = first;
    assert.equal(parseSessionHeader(other), null);
  }
  for (let i = 0; i < 2000; i++) parseSessionHeader(suite.randomBytes(i % 120));
  // A header read from a subarray with a non-zero offset sees the right bytes.
  const padded = new Uint8Array(datagram.length + 3);
  padded.set(datagram, 3);
  assert.equal(hex(parseSessionHeader(padded.subarray(3))!.senderId), hex(a.publicKey));
});

test('invalid arguments to sealSessionDatagram throw ERR_INVALID_ARGUMENT', () => {
  const base = {
    suite: nodeCryptoSuite,
    senderId: new Uint8Array(32),
    bootId: new Uint8Array(8),
    counter: 0,
    key: new Uint8Array(32),
    envelopeBytes: new Uint8Array(1),
  };
  for (const bad of [{ senderId: new Uint8Array(31) }, { bootId: new Uint8Array(7) }, { key: new Uint8Array(16) }]) {
    assert.throws(() => sealSessionDatagram({ ...base, ...bad }), code('ERR_INVALID_ARGUMENT'));
  }
});

test('invalid peer IDs throw ERR_CRYPTO from the key cache', () => {
  const suite = nodeCryptoSuite;
  const cache = new PeerKeyCache(suite, identity(suite, 1));
  const boot = new Uint8Array(8);
  assert.throws(() => cache.receiveKey(new Uint8Array(31), boot), code('ERR_CRYPTO'));
  // y = 1 is the identity point (low order): its X25519 result is all zero.
  const identityPoint = new Uint8Array(32);
  identityPoint[0] = 1;
  assert.throws(() => cache.receiveKey(identityPoint, boot), code('ERR_CRYPTO'));
  assert.throws(() => cache.sendKey(identityPoint, boot), code('ERR_CRYPTO'));
  assert.equal(cache.hasReceiveKey(identityPoint, boot), false);
});

test('the key cache is LRU-bounded', () => {
  const suite = nodeCryptoSuite;
  const cache = new PeerKeyCache(suite, identity(suite, 1), { capacity: 3 });
  const peers = [2, 3, 4, 5, 6].map((fill) => identity(suite, fill).publicKey);
  const boot = new Uint8Array(8);
  for (const peer of peers) cache.rememberReceiveKey(peer, boot, cache.receiveKey(peer, boot));
  assert.equal(cache.size, 3);
  assert.equal(cache.hasReceiveKey(peers[0], boot), false);
  assert.equal(cache.hasReceiveKey(peers[4], boot), true);
  // A new boot of a known peer reuses its cached static secret.
  assert.ok(cache.hasSharedSecret(peers[4]));
  const newBoot = new Uint8Array(8).fill(1);
  cache.rememberReceiveKey(peers[4], newBoot, cache.receiveKey(peers[4], newBoot));
  assert.equal(cache.size, 3);
});

test('boot IDs: time prefix, random suffix, later boots compare greater', () => {
  const suite = nodeCryptoSuite;
  const early = newBootId(suite, 1_700_000_000_000);
  const late = newBootId(suite, 1_700_000_000_001);
  assert.equal(early.length, 8);
  assert.equal(hex(early).slice(0, 12), '018bcfe56800');
  assert.equal(bootIdTime(early), 1_700_000_000_000);
  assert.equal(bootIdTime(newBootId(suite, 2 ** 48 - 1)), 2 ** 48 - 1);
  assert.ok(compareBootIds(late, early) > 0);
  assert.ok(compareBootIds(early, late) < 0);
  assert.equal(compareBootIds(early, Uint8Array.from(early)), 0);
  assert.ok(Math.abs(bootIdTime(newBootId(suite)) - Date.now()) < 60_000);
  assert.throws(() => newBootId(suite, -1), code('ERR_INVALID_ARGUMENT'));
  assert.throws(() => newBootId(suite, 2 ** 48), code('ERR_INVALID_ARGUMENT'));
});

test('sealed datagrams cross a real UDP socket on loopback and open on the other side', async () => {
  const suite = nodeCryptoSuite;
  const a = identity(suite, 1);
  const b = identity(suite, 2);
  const bootA = newBootId(suite);
  const receiver = createSocket('udp4');
  const sender = createSocket('udp4');
  try {
    receiver.bind(0, '127.0.0.1');
    await once(receiver, 'listening');
    const received = once(receiver, 'message');
    const datagram = sealSessionDatagram({
      suite,
      senderId: a.publicKey,
      bootId: bootA,
      counter: 0,
      key: new PeerKeyCache(suite, a).sendKey(b.publicKey, bootA),
      envelopeBytes: encodeEnvelope({ version: 1, rid: 9, ping: {}, padding: new Uint8Array(300) }),
    });
    sender.send(datagram, receiver.address().port, '127.0.0.1');
    const [message] = (await received) as [Buffer];
    const header = parseSessionHeader(message)!;
    const plaintext = openSessionDatagram(suite, new PeerKeyCache(suite, b).receiveKey(header.senderId, header.bootId), message);
    assert.equal(decodeEnvelope(plaintext!).rid, 9);
  } finally {
    receiver.close();
    sender.close();
  }
});
