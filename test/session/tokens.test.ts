import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MccError } from '../../src/errors.js';
import type { CryptoSuite } from '../../src/crypto/types.js';
import { nodeCryptoSuite } from '../../src/crypto/node-suite.js';
import { nobleCryptoSuite } from '../../src/crypto/noble-suite.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';
import { TokenIssuer } from '../../src/session/tokens.js';

const peer = new Uint8Array(32).fill(7);
const otherPeer = new Uint8Array(32).fill(8);
const address = { host: '127.0.0.1', port: 4100 };

for (const suite of [nodeCryptoSuite, nobleCryptoSuite] as CryptoSuite[]) {
  test(`[${suite.name}] a fresh token verifies for the same address and peer only`, () => {
    const clock = new VirtualClock(1_000);
    const issuer = new TokenIssuer({ suite, clock });
    const token = issuer.issue(address, peer);
    assert.equal(token.length, 16);
    assert.ok(issuer.verify(token, address, peer));
    assert.ok(issuer.verify(token, { ...address }, Uint8Array.from(peer)));
    assert.equal(issuer.verify(token, { host: '127.0.0.2', port: 4100 }, peer), false, 'other ip');
    assert.equal(issuer.verify(token, { host: '127.0.0.1', port: 4101 }, peer), false, 'other port');
    assert.equal(issuer.verify(token, address, otherPeer), false, 'other peer');
    assert.equal(issuer.verify(token, { host: '::ffff:127.0.0.1', port: 4100 }, peer), false, 'other family');
    const altered = Uint8Array.from(token);
    altered[15] ^= 1;
    assert.equal(issuer.verify(altered, address, peer), false, 'altered mac');
    assert.equal(new TokenIssuer({ suite, clock }).verify(token, address, peer), false, 'another boot (secret)');
  });
}

test('tokens live through the next epoch and expire after two rotations', () => {
  const clock = new VirtualClock(0);
  const issuer = new TokenIssuer({ suite: nodeCryptoSuite, clock, rotateMs: 60_000 });
  clock.advance(59_999); // issued at the very end of epoch 0
  const late = issuer.issue(address, peer);
  clock.advance(1); // epoch 1
  const early = issuer.issue(address, peer);
  assert.ok(issuer.verify(late, address, peer), 'previous epoch is accepted');
  assert.ok(issuer.verify(early, address, peer));
  clock.advance(60_000); // epoch 2
  assert.equal(issuer.verify(late, address, peer), false, 'two rotations later');
  assert.ok(issuer.verify(early, address, peer), 'issued in epoch 1, still valid in epoch 2');
  clock.advance(60_000); // epoch 3
  assert.equal(issuer.verify(early, address, peer), false);
});

test('verifiedUntil tells when a token stops verifying: the end of the epoch after its own', () => {
  const clock = new VirtualClock(0);
  const issuer = new TokenIssuer({ suite: nodeCryptoSuite, clock, rotateMs: 1000 });
  const peer = nodeCryptoSuite.randomBytes(32);
  const address = { host: '127.0.0.1', port: 4000 };
  clock.advance(2500);
  const token = issuer.issue(address, peer);
  assert.equal(issuer.verifiedUntil(token, address, peer), 4000);
  assert.equal(issuer.verifiedUntil(token, { host: '127.0.0.1', port: 4001 }, peer), 0);
  clock.advance(1499);
  assert.equal(issuer.verifiedUntil(token, address, peer), 4000);
  clock.advance(1);
  assert.equal(issuer.verifiedUntil(token, address, peer), 0);
});

test('an epoch tag that wraps around (256 epochs later) does not revive a token', () => {
  const clock = new VirtualClock(0);
  const issuer = new TokenIssuer({ suite: nodeCryptoSuite, clock, rotateMs: 1_000 });
  const token = issuer.issue(address, peer);
  clock.advance(256_000);
  assert.equal(issuer.issue(address, peer)[0], token[0], 'same tag byte');
  assert.equal(issuer.verify(token, address, peer), false);
});

test('malformed tokens and arguments return false, never throw', () => {
  const issuer = new TokenIssuer({ suite: nodeCryptoSuite, clock: new VirtualClock() });
  const token = issuer.issue(address, peer);
  assert.equal(issuer.verify(new Uint8Array(0), address, peer), false);
  assert.equal(issuer.verify(token.subarray(0, 15), address, peer), false);
  assert.equal(issuer.verify(new Uint8Array(17), address, peer), false);
  assert.equal(issuer.verify(token, address, new Uint8Array(31)), false);
  assert.equal(issuer.verify(null as unknown as Uint8Array, address, peer), false);
  assert.equal(issuer.verify(token, null as unknown as typeof address, peer), false);
  assert.equal(issuer.verify(token, { host: '127.0.0.1', port: 4100 + 65536 }, peer), false, 'port does not alias mod 2^16');
});

test('IPv6 and simulated-network labels are bound too', () => {
  const issuer = new TokenIssuer({ suite: nodeCryptoSuite, clock: new VirtualClock() });
  const v6 = { host: '::1', port: 9 };
  assert.ok(issuer.verify(issuer.issue(v6, peer), v6, peer));
  assert.ok(issuer.verify(issuer.issue(v6, peer), { host: '0:0::1', port: 9 }, peer), 'same address, other spelling');
  const label = { host: 'node-17', port: 1 };
  assert.ok(issuer.verify(issuer.issue(label, peer), label, peer));
  assert.equal(issuer.verify(issuer.issue(label, peer), { host: 'node-18', port: 1 }, peer), false);
});

test('bad options throw ERR_INVALID_ARGUMENT', () => {
  const invalid = (err: unknown): boolean => err instanceof MccError && err.code === 'ERR_INVALID_ARGUMENT';
  assert.throws(() => new TokenIssuer({ suite: nodeCryptoSuite, clock: new VirtualClock(), rotateMs: 0 }), invalid);
  assert.throws(() => new TokenIssuer({ suite: nodeCryptoSuite, clock: new VirtualClock(), secret: new Uint8Array(4) }), invalid);
  const issuer = new TokenIssuer({ suite: nodeCryptoSuite, clock: new VirtualClock() });
  assert.throws(() => issuer.issue({ host: '127.0.0.1', port: 70000 }, peer), invalid);
  assert.throws(() => issuer.issue(address, new Uint8Array(31)), invalid);
});
