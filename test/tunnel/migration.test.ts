/**
 * Address migration (RFC 9000 §9.3): only a new packet with the highest packet number so
 * far may move the peer's address. A replayed or late packet from elsewhere must not
 * redirect the connection (that would let an on-path observer aim our traffic at a victim).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { generateIdentity, nodeCryptoSuite as suite } from '../../src/crypto/index.js';
import { Connection } from '../../src/tunnel/connection.js';
import { HandshakeInitiator, handshakeIdentity, readHandshakeInit } from '../../src/tunnel/handshake.js';
import { UdpTransport } from '../../src/transport/udp.js';
import { systemClock, TrackedClock } from '../../src/util/clock.js';
import type { Address } from '../../src/util/address.js';
import type { TunnelStream } from '../../src/tunnel/stream.js';
import { connectPair } from './helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('Connection.lastWasLargest: true only for a new packet above every earlier one', () => {
  const a = generateIdentity();
  const b = generateIdentity();
  const initiator = new HandshakeInitiator(suite, handshakeIdentity(suite, a), b.publicKey, new Uint8Array(8).fill(1));
  const accepted = readHandshakeInit(suite, handshakeIdentity(suite, b), initiator.message)!.accept(new Uint8Array(8).fill(2));
  const client = new Connection(suite, initiator.finish(accepted.response)!.keys, 0);
  const server = new Connection(suite, accepted.keys, 0);
  const id = client.streams.open();
  const datagrams: Uint8Array[] = [];
  for (let i = 0; i < 3; i++) {
    client.streams.write(id, new Uint8Array(2000).fill(i));
    for (let d; (d = client.pollTransmit(i)) !== null; ) datagrams.push(d.slice());
  }
  assert.ok(datagrams.length >= 3);
  const seen = [0, 2, 1, 2].map((i) => {
    assert.equal(server.handleDatagram(10, datagrams[i]!.slice()), true, 'authenticates');
    return server.lastWasLargest;
  });
  assert.deepEqual(seen, [true, true, false, false], 'new highest, new highest, older, duplicate');
  assert.equal(server.handleDatagram(10, new Uint8Array(60)), false);
  assert.equal(server.lastWasLargest, false, 'garbage moves nothing');
});

test('a packet replayed from another address (real UDP) does not move the connection; the peer\'s own traffic keeps flowing', async (t) => {
  const clock = new TrackedClock(systemClock);
  const clientTransport = new UdpTransport({ host: '127.0.0.1' });
  const captured: Uint8Array[] = [];
  const send = clientTransport.send.bind(clientTransport);
  // A tap on the wire: what an on-path observer records.
  clientTransport.send = (to: Address, data: Uint8Array): void => {
    captured.push(Uint8Array.from(data));
    send(to, data);
  };
  const serverTransport = new UdpTransport({ host: '127.0.0.1' });
  const pair = await connectPair(clientTransport, serverTransport, clock);
  t.after(() => pair.close());
  const serverSide: Promise<TunnelStream> = once(pair.serverConnection, 'stream').then(([stream]) => stream as TunnelStream);
  const stream = pair.clientConnection.openStream();
  stream.on('error', () => {}); // close() below destroys open streams with ERR_STREAM
  stream.write('hello');
  const accepted = await serverSide;
  accepted.on('error', () => {});
  const received: Buffer[] = [];
  accepted.on('data', (chunk: Buffer) => received.push(chunk));
  for (let i = 0; i < 100 && Buffer.concat(received).length < 5; i++) await sleep(10);
  const home = { ...pair.serverConnection.address };
  assert.equal(home.port, clientTransport.localAddress().port);

  const attacker = createSocket('udp4');
  attacker.bind(0, '127.0.0.1');
  await once(attacker, 'listening');
  t.after(() => attacker.close());
  const attackerPort = attacker.address().port;
  const atAttacker: Buffer[] = [];
  attacker.on('message', (message) => atAttacker.push(message));
  const duplicatesBefore = pair.serverConnection.core.stats.duplicates;
  const serverAddress = serverTransport.localAddress();
  for (const datagram of captured.slice(-3)) attacker.send(datagram, serverAddress.port, serverAddress.host);
  for (let i = 0; i < 100 && pair.serverConnection.core.stats.duplicates === duplicatesBefore; i++) await sleep(10);
  assert.ok(pair.serverConnection.core.stats.duplicates > duplicatesBefore, 'the replays reached the connection (and were recognised as duplicates)');
  assert.deepEqual(pair.serverConnection.address, home, 'still the client\'s address');

  // The server answers; nothing goes to the attacker, everything to the client.
  const reply: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => reply.push(chunk));
  accepted.write(Buffer.alloc(50_000, 7));
  for (let i = 0; i < 200 && Buffer.concat(reply).length < 50_000; i++) await sleep(10);
  assert.equal(Buffer.concat(reply).length, 50_000);
  assert.equal(atAttacker.length, 0, 'the attacker\'s address received nothing');
  assert.notEqual(pair.serverConnection.address.port, attackerPort);
});
