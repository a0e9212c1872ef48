/**
 * Address migration (RFC 9000 §9.3): only a new packet with the highest packet number so
 * far may move the peer's address. A replayed or late packet from elsewhere must not
 * redirect the connection (that would let an on-path observer aim our traffic at a victim).
 */
import { test } from 'node:test';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { Connection } from '../../src/tunnel/connection.js';
import { UdpTransport } from '../../src/transport/udp.js';
import { systemClock, TrackedClock } from '../../src/util/clock.js';
import type { Address } from '../../src/util/address.js';
import type { TunnelStream } from '../../src/tunnel/stream.js';
import { connectPair, sansIoPair } from './helpers.js';

/** Collects what `stream` reads; `reached(n)` resolves once n bytes have arrived (an event, not a poll). */
function collect(stream: TunnelStream): { chunks: Buffer[]; reached: (bytes: number) => Promise<void> } {
  const chunks: Buffer[] = [];
  let length = 0;
  const waiters: Array<{ bytes: number; resolve: () => void }> = [];
  stream.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    length += chunk.length;
    for (const waiter of waiters.splice(0)) {
      if (length >= waiter.bytes) waiter.resolve();
      else waiters.push(waiter);
    }
  });
  const reached = (bytes: number): Promise<void> => (length >= bytes ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ bytes, resolve })));
  return { chunks, reached };
}

test('Connection.lastWasLargest: true only for a new packet above every earlier one', () => {
  const { client, server } = sansIoPair();
  const id = client.streams.open();
  const datagrams: Uint8Array[] = [];
  for (let i = 0; i < 3; i++) {
    client.streams.write(id, new Uint8Array(2000).fill(i));
    for (let d; (d = client.pollTransmit(i)) !== null;) datagrams.push(d.slice());
  }
  assert.ok(datagrams.length >= 3);
  const seen = [0, 2, 1, 2].map((i) => {
    assert.equal(server.handleDatagram(10, datagrams[i].slice()), true, 'authenticates');
    return server.lastWasLargest;
  });
  assert.deepEqual(seen, [true, true, false, false], 'new highest, new highest, older, duplicate');
  assert.equal(server.handleDatagram(10, new Uint8Array(60)), false);
  assert.equal(server.lastWasLargest, false, 'garbage moves nothing');
});

test("a packet replayed from another address (real UDP) does not move the connection; the peer's own traffic keeps flowing", async (t) => {
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
  const serverSide: Promise<TunnelStream> = new Promise<TunnelStream>((resolve) => pair.serverConnection.once('stream', resolve));
  const stream = pair.clientConnection.openStream();
  stream.on('error', () => {}); // close() below destroys open streams with ERR_STREAM
  stream.write('hello');
  const accepted = await serverSide;
  accepted.on('error', () => {});
  await collect(accepted).reached(5);
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
  const replays = captured.slice(-3);
  // Resolves once the server connection has processed every replay from the attacker's port.
  const replaysProcessed = new Promise<void>((resolve) => {
    const connection = pair.serverConnection;
    const receive = connection.receive.bind(connection);
    let seen = 0;
    connection.receive = (datagram: Uint8Array, from: Address): void => {
      receive(datagram, from);
      if (from.port === attackerPort && ++seen === replays.length) resolve();
    };
  });
  for (const datagram of replays) attacker.send(datagram, serverAddress.port, serverAddress.host);
  await replaysProcessed;
  assert.ok(pair.serverConnection.core.stats.duplicates > duplicatesBefore, 'the replays reached the connection (and were recognised as duplicates)');
  assert.deepEqual(pair.serverConnection.address, home, "still the client's address");

  // The server answers; nothing goes to the attacker, everything to the client.
  const reply = collect(stream);
  accepted.write(Buffer.alloc(50_000, 7));
  await reply.reached(50_000);
  assert.equal(Buffer.concat(reply.chunks).length, 50_000);
  assert.equal(atAttacker.length, 0, "the attacker's address received nothing");
  assert.notEqual(pair.serverConnection.address.port, attackerPort);
});

/** A sans-IO pair with some traffic exchanged both ways (both sides validated). */
function establishedPair(): { client: Connection; server: Connection; move: (from: Connection, to: Connection, now: number) => number } {
  const { client, server } = sansIoPair();
  /** Delivers everything `from` sends now; returns the bytes. */
  const move = (from: Connection, to: Connection, now: number): number => {
    let bytes = 0;
    for (let d; (d = from.pollTransmit(now)) !== null;) {
      bytes += d.length;
      to.handleDatagram(now, d.slice());
    }
    return bytes;
  };
  for (let now = 1; now < 5; now++) {
    move(client, server, now);
    move(server, client, now);
  }
  return { client, server, move };
}

test('path validation: a new peer address gets at most 3x what came from it until it echoes the challenge', () => {
  const { client, server, move } = establishedPair();
  let now = 10;
  // The server has a lot to send to the client...
  while (server.pollEvent());
  const id = server.streams.open();
  server.streams.write(id, new Uint8Array(200_000));
  // ...when the client's newest 60-byte packet arrives from an address it has not proven.
  server.startPathValidation(now, 60);
  const challengePhase: Uint8Array[] = [];
  for (let d; (d = server.pollTransmit(now)) !== null;) challengePhase.push(d.slice());
  const sent = challengePhase.reduce((n, d) => n + d.length, 0);
  assert.ok(sent > 0, 'the challenge went out');
  assert.ok(sent <= 3 * 60, `at most 3x the 60 bytes received (sent ${sent})`);
  // The client answers from there: the address is proven and the data flows.
  for (const d of challengePhase) client.handleDatagram(now, d);
  move(client, server, ++now);
  assert.equal(server.takePathOutcome(), 'validated');
  const afterValidation = move(server, client, ++now);
  assert.ok(afterValidation > 3 * 1200, `full-size packets go out once validated (${afterValidation} bytes)`);
});

test('path validation: no echo within 3 PTOs (at least 600 ms) means failed, and the budget is lifted for the old address', () => {
  const { server } = establishedPair();
  let now = 10;
  while (server.pollEvent());
  const id = server.streams.open();
  server.streams.write(id, new Uint8Array(100_000));
  server.startPathValidation(now, 50);
  let sent = 0;
  for (let step = 0; step < 100 && server.takePathOutcome() === null; step++) {
    for (let d; (d = server.pollTransmit(now)) !== null;) sent += d.length;
    now = Math.max(now + 1, Math.min(server.nextTimeout(), now + 50));
    server.handleTimeout(now);
  }
  assert.ok(now >= 10 + 600, `gave up only after the minimum validation time (at ${now})`);
  assert.ok(sent <= 3 * 50, `repeated challenges stayed within the budget (sent ${sent})`);
  // The caller reverted to the validated address (it got the 'failed' outcome): sending resumes.
  let after = 0;
  for (let d; (d = server.pollTransmit(now)) !== null;) after += d.length;
  assert.ok(after > 10_000, 'the old, validated path is not limited');
});

test('a peer spoofing a victim as its source (real UDP) gets at most 3x its packet sent there; the transfer still completes', async (t) => {
  const clock = new TrackedClock(systemClock);
  const clientTransport = new UdpTransport({ host: '127.0.0.1' });
  const serverTransport = new UdpTransport({ host: '127.0.0.1' });
  const victim = createSocket('udp4');
  victim.bind(0, '127.0.0.1');
  await once(victim, 'listening');
  t.after(() => victim.close());
  let victimBytes = 0;
  victim.on('message', (message) => (victimBytes += message.length));
  let divert = 0;
  let divertedBytes = 0;
  const send = clientTransport.send.bind(clientTransport);
  // The (authenticated) client sends some of its own fresh packets with the victim's source.
  clientTransport.send = (to: Address, data: Uint8Array): void => {
    if (divert > 0) {
      divert--;
      divertedBytes += data.length;
      victim.send(data, to.port, to.host);
    } else send(to, data);
  };
  const pair = await connectPair(clientTransport, serverTransport, clock);
  t.after(() => pair.close());
  const total = 2_000_000;
  pair.serverConnection.on('stream', (stream: TunnelStream) => {
    stream.on('error', () => {});
    stream.end(Buffer.alloc(total, 9));
  });
  const stream = pair.clientConnection.openStream();
  stream.on('error', () => {});
  stream.write('go');
  let received = 0;
  let diverted = false;
  await new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (!diverted && received > 100_000) {
        diverted = true;
        divert = 3; // the next three ACK packets claim to come from the victim
      }
    });
    stream.on('end', resolve);
  });
  assert.equal(received, total, 'the download completed');
  assert.ok(divertedBytes > 0, 'packets were sent with the victim as source');
  assert.ok(victimBytes <= 3 * divertedBytes + 100, `the victim got ${victimBytes} bytes for the ${divertedBytes} sent in its name`);
  assert.equal(pair.serverConnection.address.port, clientTransport.localAddress().port, 'the server sends to the client again');
});
