/**
 * Stream bookkeeping on a sans-IO connection pair: streams leave the table (and free their
 * slot against the stream limit) however they end.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import type { Connection } from '../../src/tunnel/connection.js';
import { sansIoPair } from './helpers.js';

/** Moves datagrams both ways until both sides are quiet (bounded). */
function pump(a: Connection, b: Connection, now: number): void {
  for (let round = 0; round < 100; round++) {
    let moved = false;
    for (let d; (d = a.pollTransmit(now)) !== null; moved = true) b.handleDatagram(now, d.slice());
    for (let d; (d = b.pollTransmit(now)) !== null; moved = true) a.handleDatagram(now, d.slice());
    if (!moved) return;
  }
}

test("a stream aborted unread after the peer's FIN arrived leaves the table: 1,500 such streams do not exhaust the stream limit", () => {
  const { client, server } = sansIoPair();
  let now = 1;
  let refused = 0;
  for (let i = 0; i < 1500; i++) {
    const id = client.streams.open();
    client.streams.write(id, new Uint8Array(100).fill(i & 0xff));
    client.streams.finish(id);
    pump(client, server, (now += 1));
    // The server side gives up on the stream without reading it (what destroy() does).
    for (let event; (event = server.pollEvent());) if (event.type === 'stream') server.streams.abort(event.id, 0);
    pump(client, server, (now += 1));
    for (let event; (event = client.pollEvent());) {
      if (event.type === 'reset' && event.code === 1) refused++;
      if (event.type === 'reset' || event.type === 'stop') client.streams.abort(event.id, 0);
    }
    pump(client, server, (now += 1));
  }
  // Delayed ACKs of the last resets go out once their timer is due.
  for (let i = 0; i < 3; i++) pump(client, server, (now += 100));
  assert.equal(refused, 0, 'no stream was refused for the limit');
  assert.equal(server.streams.size, 0, 'the server keeps no entry');
  assert.equal(client.streams.size, 0, 'the client keeps no entry');
  assert.equal(server.state, 'open');
});

/**
 * Sends what the client wrote, one datagram at a time (acks flow back when the window
 * is full), and returns the stream ID of every chunk the server received, in order.
 */
function arrivalOrder(client: Connection, server: Connection, total: number): number[] {
  const order: number[] = [];
  const ids = new Set<number>();
  let received = 0;
  let now = 1;
  for (let round = 0; round < 10_000 && received < total; round++) {
    const datagram = client.pollTransmit(now);
    if (datagram === null) {
      for (let d; (d = server.pollTransmit(now)) !== null;) client.handleDatagram(now, d.slice());
      now += 1;
      continue;
    }
    server.handleDatagram(now, datagram.slice());
    for (let event; (event = server.pollEvent());) if (event.type === 'stream') ids.add(event.id);
    for (const id of ids) {
      for (let chunk; (chunk = server.streams.read(id)) !== null;) {
        order.push(id);
        received += chunk.length;
      }
    }
  }
  return order;
}

test('scheduling: a stream sends up to a 32 KiB quantum before the next one, so concurrent short answers arrive one after the other', () => {
  const { client, server } = sansIoPair();
  const ids = [client.streams.open(), client.streams.open(), client.streams.open()];
  for (const id of ids) client.streams.write(id, new Uint8Array(16 * 1024));
  const order = arrivalOrder(client, server, 3 * 16 * 1024);
  // Each answer arrives whole before the next one starts (no interleaving).
  const runs = order.filter((id, i) => i === 0 || order[i - 1] !== id);
  assert.deepEqual(runs, ids);
});

test('scheduling: streams longer than the quantum take turns (no stream starves another)', () => {
  const { client, server } = sansIoPair();
  const ids = [client.streams.open(), client.streams.open()];
  for (const id of ids) client.streams.write(id, new Uint8Array(200 * 1024));
  const order = arrivalOrder(client, server, 2 * 200 * 1024);
  const runs = order.filter((id, i) => i === 0 || order[i - 1] !== id);
  assert.ok(runs.length >= 10, `the two streams alternated ${runs.length} times`);
  // A turn is one quantum (32 KiB, about 29 packets) at most, plus the packet that crossed it.
  let longest = 0;
  for (let i = 0, run = 0; i < order.length; i++) longest = Math.max(longest, (run = i > 0 && order[i - 1] === order[i] ? run + 1 : 1));
  assert.ok(longest <= 30, `longest turn ${longest} packets`);
});
