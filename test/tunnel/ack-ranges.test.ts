/**
 * ACK ranges are trimmed once the peer has seen them (RFC 9000 §13.2.4): after a loss,
 * ACK frames shrink back to one range instead of repeating every old gap forever.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { AckState } from '../../src/tunnel/ack-state.js';
import { HEADER_LENGTH, TAG_LENGTH } from '../../src/tunnel/packet.js';
import { sansIoPair } from './helpers.js';

test('AckState: ranges the peer confirmed are no longer reported; duplicates are still detected', () => {
  const acks = new AckState(25);
  // Received 0..9 with every third packet missing: ranges [9,9] [7,6] [4,3] [1,0].
  for (let pn = 0; pn < 10; pn++) if (pn % 3 !== 2) assert.equal(acks.onPacket(pn, 0), true);
  const first = acks.take(0).ranges;
  assert.deepEqual(first, [9, 9, 7, 6, 4, 3, 1, 0]);
  acks.onAckSent(100, first[0]); // our packet 100 carried that ACK
  acks.onPacket(10, 1);
  acks.onPacket(11, 1);
  // The peer has not acknowledged packet 100 yet: everything is still reported.
  assert.deepEqual(acks.take(1).ranges, [11, 9, 7, 6, 4, 3, 1, 0]);
  // An ACK of other packets of ours changes nothing; one covering 100 trims below 10.
  acks.onPeerAck([99, 90]);
  acks.onPacket(12, 2);
  assert.deepEqual(acks.take(2).ranges, [12, 9, 7, 6, 4, 3, 1, 0]);
  acks.onAckSent(101, 12);
  acks.onPeerAck([100, 100]);
  acks.onPacket(13, 3);
  assert.deepEqual(acks.take(3).ranges, [13, 10]);
  // Old packets are still duplicates, and a late one below the floor is accepted but only
  // the highest range goes out.
  assert.equal(acks.onPacket(6, 4), false);
  assert.equal(acks.onPacket(5, 4), true);
  assert.deepEqual(acks.take(4).ranges, [13, 10]);
  // Carrier 101 (largest 12) is covered too, by a later ACK: the floor moves to 13.
  acks.onAckSent(102, 13);
  acks.onPeerAck([102, 101]);
  acks.onPacket(14, 5);
  assert.deepEqual(acks.take(5).ranges, [14, 14]);
});

test('after losses, ACK-only packets shrink back to a single range once the peer saw our ACKs', () => {
  let now = 0;
  const { client, server } = sansIoPair(now);
  const id = client.streams.open();
  const chunk = new Uint8Array(16 * 1024);
  const total = 3 * 1024 * 1024;
  let written = 0;
  let received = 0;
  let clientDatagrams = 0;
  const ackSizes: number[] = [];
  for (let round = 0; round < 100_000 && received < total; round++) {
    while (written < total) {
      const n = client.streams.write(id, chunk.subarray(0, Math.min(chunk.length, total - written)));
      written += n;
      if (n === 0) break;
    }
    now += 0.05;
    let moved = 0;
    for (let d = client.pollTransmit(now); d !== null; d = client.pollTransmit(now)) {
      clientDatagrams++;
      moved++;
      // Lose 40 scattered packets early on: many gaps, more than an ACK frame may report.
      if (clientDatagrams < 800 && clientDatagrams % 20 === 7) continue;
      server.handleDatagram(now, d);
    }
    while (server.pollEvent()) {}
    for (let c = server.streams.read(id); c !== null; c = server.streams.read(id)) received += c.length;
    for (let d = server.pollTransmit(now); d !== null; d = server.pollTransmit(now)) {
      moved++;
      if (d.length < 200) ackSizes.push(d.length);
      client.handleDatagram(now, d);
    }
    while (client.pollEvent()) {}
    if (moved === 0) {
      now += 1;
      client.handleTimeout(now);
      server.handleTimeout(now);
    }
  }
  assert.equal(received, total);
  assert.ok(client.stats.framesLost > 0, 'the test lost packets');
  // The last ACKs carry one range: type, largest, delay, count, first range (at most ~20 bytes).
  const tail = ackSizes.slice(-20);
  for (const size of tail) assert.ok(size <= HEADER_LENGTH + TAG_LENGTH + 20, `late ACK of ${size} bytes: old ranges still reported (${tail.join(' ')})`);
});
