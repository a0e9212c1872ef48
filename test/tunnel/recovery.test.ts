import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NewReno } from '../../src/tunnel/congestion.js';
import { Recovery, type FrameOutcome, type SentFrame } from '../../src/tunnel/recovery.js';
import { RttEstimator } from '../../src/util/rtt.js';

const MSS = 1200;
const MAX_ACK_DELAY = 25;

/** A Recovery over a real NewReno and RTT estimator, with helpers to send and acknowledge. */
function harness() {
  const rtt = new RttEstimator(100);
  const cc = new NewReno({ maxDatagram: MSS });
  const recovery = new Recovery(rtt, cc, MAX_ACK_DELAY);
  const lost: SentFrame[] = [];
  const acked: SentFrame[] = [];
  const outcome: FrameOutcome = { onFrameAcked: (frame) => acked.push(frame), onFrameLost: (frame) => lost.push(frame) };
  let nextPn = 0;
  return {
    cc,
    recovery,
    lost,
    acked,
    send(at: number): number {
      const packet = recovery.newPacket();
      packet.pn = nextPn++;
      packet.timeSent = at;
      packet.size = MSS;
      packet.appLimited = false;
      packet.frames.push({ kind: 'ping' });
      recovery.onSent(packet);
      return packet.pn;
    },
    /** Acknowledges [high, low] ranges, highest first. */
    ack(at: number, ...ranges: number[]): void {
      assert.ok(recovery.onAck(ranges, 0, nextPn, at, outcome));
    },
  };
}

// With one 10 ms sample: PTO = 10 + max(4 * 5, 1) + 25 = 55 ms, so the span is 165 ms.
const SPAN_MS = 3 * (10 + 4 * 5 + MAX_ACK_DELAY);

test('recovery: lost packets spanning 3 PTOs with nothing acked between collapse the window (RFC 9002 §7.6)', () => {
  const h = harness();
  h.ack(10, h.send(0), 0); // the first RTT sample (10 ms), before anything is lost
  const grown = h.cc.window;
  for (let k = 0; k < 10; k++) h.send(20 + 20 * k); // 20 .. 200 ms: 180 ms > 165
  const last = h.send(210);
  h.ack(220, last, last);
  assert.equal(h.lost.length, 10, 'everything before the acked packet is lost');
  assert.ok(180 > SPAN_MS);
  assert.equal(h.recovery.persistentCongestionEvents, 1);
  assert.equal(h.cc.window, 2 * MSS, `window collapsed to the minimum (was ${grown})`);
});

test('recovery: an acknowledged packet inside the run means no persistent congestion, only a halving', () => {
  const h = harness();
  h.ack(10, h.send(0), 0);
  const before = h.cc.window;
  const pns: number[] = [];
  for (let k = 0; k < 10; k++) pns.push(h.send(20 + 20 * k));
  const last = h.send(210);
  h.ack(220, last, last, pns[4], pns[4]); // the 5th (sent at 100 ms) got through
  assert.equal(h.lost.length, 9);
  assert.equal(h.recovery.persistentCongestionEvents, 0, 'runs of 80 ms and 80 ms are each under 165 ms');
  assert.equal(h.cc.window, (before + 2 * MSS) / 2, 'the two acks grew it (slow start), then the loss halved it');
});

test('recovery: a run shorter than 3 PTOs halves the window only', () => {
  const h = harness();
  h.ack(10, h.send(0), 0);
  const before = h.cc.window;
  for (let k = 0; k < 5; k++) h.send(20 + 20 * k); // 20 .. 100 ms: 80 ms < 165
  const last = h.send(110);
  h.ack(120, last, last);
  assert.equal(h.lost.length, 5);
  assert.equal(h.recovery.persistentCongestionEvents, 0);
  assert.equal(h.cc.window, (before + MSS) / 2);
});

test('recovery: losses before the first RTT sample never count as persistent congestion', () => {
  const h = harness();
  for (let k = 0; k < 10; k++) h.send(20 * k); // the PTO was only a guess while these were sent
  const last = h.send(300);
  h.ack(310, last, last);
  assert.equal(h.lost.length, 10);
  assert.equal(h.recovery.persistentCongestionEvents, 0);
  assert.ok(h.cc.window > 2 * MSS);
});
