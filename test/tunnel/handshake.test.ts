import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateIdentity, nobleCryptoSuite, nodeCryptoSuite, type CryptoSuite } from '../../src/crypto/index.js';
import { HandshakeInitiator, handshakeIdentity, readHandshakeInit } from '../../src/tunnel/handshake.js';
import { PacketOpener, PacketSealer, KEY_GENERATION_PACKETS } from '../../src/tunnel/packet.js';
import { suitePairs, suites } from '../helpers/suites.js';

const suite = nodeCryptoSuite;
const cid = (n: number) => new Uint8Array(8).fill(n);

function handshake(initiatorKeys = generateIdentity(), responderKeys = generateIdentity(), payload = new TextEncoder().encode('web')) {
  const i = handshakeIdentity(suite, initiatorKeys);
  const r = handshakeIdentity(suite, responderKeys);
  const initiator = new HandshakeInitiator(suite, i, responderKeys.publicKey, cid(1), payload);
  const init = readHandshakeInit(suite, r, initiator.message);
  assert.ok(init, 'responder authenticates the init message');
  const { response, keys: responderSide } = init.accept(cid(2), new TextEncoder().encode('ok'));
  const done = initiator.finish(response);
  assert.ok(done, 'initiator authenticates the answer');
  return { init, responderSide, initiatorSide: done.keys, answer: done.payload, initiatorKeys, responderKeys };
}

test('both sides derive matching per-direction keys, connection IDs and peers', () => {
  const { init, responderSide, initiatorSide, answer, initiatorKeys, responderKeys } = handshake();
  assert.deepEqual(initiatorSide.sendKey, responderSide.receiveKey);
  assert.deepEqual(initiatorSide.receiveKey, responderSide.sendKey);
  assert.notDeepEqual(initiatorSide.sendKey, initiatorSide.receiveKey);
  assert.deepEqual(initiatorSide.remoteCid, cid(2));
  assert.deepEqual(responderSide.remoteCid, cid(1));
  assert.deepEqual(initiatorSide.handshakeHash, responderSide.handshakeHash);
  assert.deepEqual(init.peer, initiatorKeys.publicKey);
  assert.deepEqual(initiatorSide.peer, responderKeys.publicKey);
  assert.equal(new TextDecoder().decode(init.payload), 'web');
  assert.equal(new TextDecoder().decode(answer), 'ok');
});

test('every available suite completes a handshake with every other (node, noble, sodium where it loads)', () => {
  for (const [initiatorSuite, responderSuite] of suitePairs) {
    const a = generateIdentity();
    const b = generateIdentity();
    const initiator = new HandshakeInitiator(initiatorSuite, handshakeIdentity(initiatorSuite, a), b.publicKey, cid(1));
    const init = readHandshakeInit(responderSuite, handshakeIdentity(responderSuite, b), initiator.message);
    assert.ok(init, `${initiatorSuite.name} -> ${responderSuite.name}`);
    const { response, keys } = init.accept(cid(2));
    const done = initiator.finish(response);
    assert.ok(done, `${responderSuite.name} answers ${initiatorSuite.name}`);
    assert.deepEqual(done.keys.sendKey, keys.receiveKey);
    assert.deepEqual(done.keys.handshakeHash, keys.handshakeHash);
  }
});

test('an init for another responder key fails to authenticate', () => {
  const a = generateIdentity();
  const b = generateIdentity();
  const mallory = generateIdentity();
  const initiator = new HandshakeInitiator(suite, handshakeIdentity(suite, a), b.publicKey, cid(1));
  assert.equal(readHandshakeInit(suite, handshakeIdentity(suite, mallory), initiator.message), null);
});

test('an answer from someone without the responder static key is rejected', () => {
  const a = generateIdentity();
  const b = generateIdentity();
  const mallory = generateIdentity();
  const initiator = new HandshakeInitiator(suite, handshakeIdentity(suite, a), b.publicKey, cid(1));
  // Mallory answers a fresh init addressed to her as if she were b: the transcript differs.
  const forged = new HandshakeInitiator(suite, handshakeIdentity(suite, a), mallory.publicKey, cid(1));
  const init = readHandshakeInit(suite, handshakeIdentity(suite, mallory), forged.message);
  assert.ok(init);
  assert.equal(initiator.finish(init.accept(cid(3)).response), null);
});

test('tampered messages are rejected without throwing', () => {
  const a = generateIdentity();
  const b = generateIdentity();
  const r = handshakeIdentity(suite, b);
  const initiator = new HandshakeInitiator(suite, handshakeIdentity(suite, a), b.publicKey, cid(1));
  for (const index of [0, 1, 9, 20, 50, initiator.message.length - 1]) {
    const bad = initiator.message.slice();
    bad[index] ^= 1;
    assert.equal(readHandshakeInit(suite, r, bad), null, `byte ${index}`);
  }
  assert.equal(readHandshakeInit(suite, r, new Uint8Array(10)), null);
  assert.equal(readHandshakeInit(suite, r, new Uint8Array(0)), null);
  const init = readHandshakeInit(suite, r, initiator.message)!;
  const { response } = init.accept(cid(2));
  const bad = response.slice();
  bad[bad.length - 1] ^= 1;
  assert.equal(initiator.finish(bad), null);
  assert.equal(initiator.finish(response.subarray(0, 20)), null);
  assert.ok(initiator.finish(response), 'the genuine answer still completes after forgeries');
});

test('forward secrecy: same static keys, fresh traffic keys every handshake', () => {
  const a = generateIdentity();
  const b = generateIdentity();
  const first = handshake(a, b);
  const second = handshake(a, b);
  assert.notDeepEqual(first.initiatorSide.sendKey, second.initiatorSide.sendKey);
  assert.notDeepEqual(first.initiatorSide.receiveKey, second.initiatorSide.receiveKey);
  // The keys depend on ee: re-running the responder on the same init with a new ephemeral changes them,
  // so the static keys alone cannot reproduce recorded traffic keys.
  const r = handshakeIdentity(suite, b);
  const initiator = new HandshakeInitiator(suite, handshakeIdentity(suite, a), b.publicKey, cid(1));
  const k1 = readHandshakeInit(suite, r, initiator.message)!.accept(cid(2)).keys;
  const k2 = readHandshakeInit(suite, r, initiator.message)!.accept(cid(2)).keys;
  assert.notDeepEqual(k1.sendKey, k2.sendKey);
});

test('packet protection: seal/open, key generations, tamper and replay of foreign keys', () => {
  const { initiatorSide, responderSide } = handshake();
  const sealer = new PacketSealer(suite, initiatorSide.sendKey.slice(), initiatorSide.remoteCid);
  const opener = new PacketOpener(suite, responderSide.receiveKey.slice());
  const payload = new Uint8Array([1, 2, 3]);
  const p0 = sealer.seal(0, payload);
  assert.equal(p0[0], 0x12);
  assert.deepEqual(p0.subarray(1, 9), cid(2));
  // Opened payloads are Buffers (views of them go to the Duplex unwrapped).
  assert.deepEqual(opener.open(p0), Buffer.from(payload));
  assert.equal(opener.pn, 0);
  const tampered = p0.slice();
  tampered[12] ^= 1; // packet number is authenticated
  assert.equal(opener.open(tampered), null);
  // Next generation opens and rotates; two generations ahead is refused.
  const p1 = sealer.seal(KEY_GENERATION_PACKETS + 5, payload);
  const p3 = new PacketSealer(suite, initiatorSide.sendKey.slice(), initiatorSide.remoteCid).seal(3 * KEY_GENERATION_PACKETS, payload);
  assert.deepEqual(opener.open(p1), Buffer.from(payload));
  assert.equal(opener.pn, KEY_GENERATION_PACKETS + 5);
  assert.equal(opener.open(p3), null);
  assert.ok(opener.open(p0), 'previous generation still opens (reordering across a rotation)');
});

test('packet protection: in-place sealing gives the same datagram with every suite, with or without the *Into hot path', () => {
  const { initiatorSide, responderSide } = handshake();
  const { sealInto: _s, openInto: _o, ...plainSuite } = nobleCryptoSuite;
  const variants: CryptoSuite[] = [...suites, plainSuite];
  for (const size of [0, 100, 1167]) {
    const payload = suite.randomBytes(size);
    const datagrams = variants.map((s) => {
      const buf = new Uint8Array(5 + 1200).fill(0xee);
      buf.set(payload, 5 + 17);
      const length = new PacketSealer(s, initiatorSide.sendKey.slice(), initiatorSide.remoteCid).sealInPlace(7, buf, 5, size);
      assert.equal(buf[4], 0xee, 'nothing written before the offset');
      return buf.slice(5, 5 + length);
    });
    for (const [index, datagram] of datagrams.entries()) assert.deepEqual(datagram, datagrams[0], variants[index].name);
    assert.deepEqual(datagrams[0], new PacketSealer(suite, initiatorSide.sendKey.slice(), initiatorSide.remoteCid).seal(7, payload));
    for (const s of variants) {
      const opener = new PacketOpener(s, responderSide.receiveKey.slice());
      assert.deepEqual(opener.open(datagrams[0]), Buffer.from(payload));
      assert.equal(opener.pn, 7);
    }
  }
});
