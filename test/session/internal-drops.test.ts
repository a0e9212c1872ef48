import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionLayer } from '../../src/session/session.js';
import { Stats } from '../../src/util/stats.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';
import { nodeCryptoSuite, generateIdentity } from '../../src/crypto/index.js';
import { MccError } from '../../src/errors.js';
import { RelayTransport } from '../../src/nat/relay-transport.js';
import { PACKET_RELAYED } from '../../src/wire/constants.js';
import type { Address } from '../../src/util/address.js';
import type { DatagramHandler, Transport } from '../../src/transport/types.js';
import type { Logger } from '../../src/util/logger.js';

/** Two in-memory endpoints that deliver synchronously. */
function linkedTransports(): [Transport, Transport] {
  const addresses: Address[] = [
    { host: '127.0.0.1', port: 1 },
    { host: '127.0.0.1', port: 2 },
  ];
  const handlers: DatagramHandler[] = [() => {}, () => {}];
  const make = (i: number): Transport => ({
    bind: async () => addresses[i],
    send: (_to, data) => handlers[1 - i](data.slice(), addresses[i]),
    onDatagram: (handler) => {
      handlers[i] = handler;
    },
    localAddress: () => addresses[i],
    close: async () => {},
  });
  return [make(0), make(1)];
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, error() {}, warn: (message: string) => void warnings.push(message) };
}

function pair() {
  const [ta, tb] = linkedTransports();
  const clock = new VirtualClock();
  const statsB = new Stats();
  const logger = recordingLogger();
  const a = new SessionLayer({ identity: generateIdentity(nodeCryptoSuite), suite: nodeCryptoSuite, transport: ta, clock, stats: new Stats() });
  const identityB = generateIdentity(nodeCryptoSuite);
  const b = new SessionLayer({ identity: identityB, suite: nodeCryptoSuite, transport: tb, clock, stats: statsB, logger });
  return { a, b, ta, statsB, logger, peerB: { id: identityB.publicKey, address: tb.localAddress() } };
}

test("an exception thrown by a message handler is an 'internal' drop, not 'malformed', and is logged once per kind", () => {
  const { a, b, statsB, logger, peerB } = pair();
  let calls = 0;
  b.onMessage(() => {
    calls++;
    throw new TypeError('handler bug');
  });
  for (let rid = 1; rid <= 3; rid++) a.send(peerB, { rid, ping: {} });
  assert.equal(calls, 3, 'the datagrams authenticated and reached the handler');
  const dropped = statsB.snapshot().dropped;
  assert.equal(dropped.internal, 3);
  assert.equal(dropped.malformed, 0);
  assert.equal(logger.warnings.length, 1, 'one warning for three exceptions of the same kind');
  assert.match(logger.warnings[0], /TypeError/);
  assert.match(logger.warnings[0], /internal-drops\.test\.ts/, 'the first stack frame is named');
});

test("a raw-datagram handler that reports bad input with ERR_DECODE counts as 'malformed'; any other exception as 'internal'", () => {
  const { b, ta, statsB, logger, peerB } = pair();
  b.onRawDatagram(0x12, (data) => {
    if (data[1] === 0) throw new MccError('ERR_DECODE', 'bad frame');
    if (data[1] === 1) throw new RangeError('offset out of bounds');
    throw new Error('another bug');
  });
  ta.send(peerB.address, new Uint8Array([0x12, 0]));
  ta.send(peerB.address, new Uint8Array([0x12, 0]));
  ta.send(peerB.address, new Uint8Array([0x12, 1]));
  ta.send(peerB.address, new Uint8Array([0x12, 1]));
  ta.send(peerB.address, new Uint8Array([0x12, 2]));
  const dropped = statsB.snapshot().dropped;
  assert.equal(dropped.malformed, 2);
  assert.equal(dropped.internal, 3);
  assert.equal(logger.warnings.length, 2, 'two kinds, two warnings');
  assert.match(logger.warnings[0], /RangeError/);
  assert.match(logger.warnings[1], /Error/);
});

test("garbage never counts as 'internal'", () => {
  const { ta, statsB, peerB } = pair();
  let seed = 7;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < 2000; i++) {
    const data = new Uint8Array(1 + (next() % 400));
    for (let j = 0; j < data.length; j++) data[j] = next() >>> 24;
    if (i % 2 === 0) data[0] = 0x11 + (i % 6); // session, tunnel, relay and identify kinds
    ta.send(peerB.address, data);
  }
  const snapshot = statsB.snapshot();
  assert.equal(snapshot.dropped.internal, 0, JSON.stringify(snapshot.dropped));
  assert.ok(snapshot.droppedTotal > 1500, JSON.stringify(snapshot.dropped));
});

test("an exception in a relay transport's hole-punch claim or relay fallback is an 'internal' drop of the session layer above it", () => {
  const [inner, peer] = linkedTransports();
  const relay = new RelayTransport(inner);
  const stats = new Stats();
  const logger = recordingLogger();
  new SessionLayer({ identity: generateIdentity(nodeCryptoSuite), suite: nodeCryptoSuite, transport: relay, clock: new VirtualClock(), stats, logger });
  const id = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const relayed = (circuit: Uint8Array): Uint8Array => new Uint8Array([PACKET_RELAYED, ...circuit, 0xaa, 0xbb]);
  const unclaim = relay.claim(Buffer.from(id).toString('hex'), () => {
    throw new TypeError('claimant bug');
  });
  peer.send(inner.localAddress(), relayed(id));
  unclaim();
  relay.setRelayFallback(() => {
    throw new RangeError('relay server bug');
  });
  peer.send(inner.localAddress(), relayed(new Uint8Array(8).fill(9)));
  peer.send(inner.localAddress(), relayed(new Uint8Array(8).fill(9)));
  assert.equal(stats.snapshot().dropped.internal, 3);
  assert.equal(relay.counters.droppedInbound, 3);
  assert.equal(logger.warnings.length, 2, 'one warning per kind');
  assert.match(logger.warnings[0], /relay transport.*TypeError/);
  assert.match(logger.warnings[1], /RangeError/);
});

test('without an internal-error handler, a relay transport lets a claimant exception propagate (no silent swallowing)', () => {
  const [inner, peer] = linkedTransports();
  const relay = new RelayTransport(inner);
  relay.onDatagram(() => {});
  relay.claim('0102030405060708', () => {
    throw new TypeError('claimant bug');
  });
  assert.throws(() => peer.send(inner.localAddress(), new Uint8Array([PACKET_RELAYED, 1, 2, 3, 4, 5, 6, 7, 8, 0])), TypeError);
});
