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

test('a stream aborted unread after the peer\'s FIN arrived leaves the table: 1,500 such streams do not exhaust the stream limit', () => {
  const { client, server } = sansIoPair();
  let now = 1;
  let refused = 0;
  for (let i = 0; i < 1500; i++) {
    const id = client.streams.open();
    client.streams.write(id, new Uint8Array(100).fill(i & 0xff));
    client.streams.finish(id);
    pump(client, server, (now += 1));
    // The server side gives up on the stream without reading it (what destroy() does).
    for (let event; (event = server.pollEvent()); ) if (event.type === 'stream') server.streams.abort(event.id, 0);
    pump(client, server, (now += 1));
    for (let event; (event = client.pollEvent()); ) {
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
