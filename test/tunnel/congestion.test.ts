import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NewReno } from '../../src/tunnel/congestion.js';

const MSS = 1200;

/** Runs slow-start rounds: each round sends a window of packets and acks them with `rtt(round)`. */
function runRounds(cc: NewReno, rounds: number, rtt: (round: number) => number): number[] {
  let pn = 0;
  const windows: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const first = pn;
    const count = Math.floor(cc.window / MSS);
    for (let i = 0; i < count; i++) cc.onPacketSent(MSS);
    pn += count;
    for (let i = first; i < pn; i++) {
      cc.onPacketAcked(MSS, round, false);
      cc.onRttSample(rtt(round), i, pn);
    }
    windows.push(cc.window);
  }
  return windows;
}

test('HyStart++: slow start keeps doubling while the RTT stays flat', () => {
  const cc = new NewReno();
  const windows = runRounds(cc, 8, () => 1);
  for (let i = 1; i < windows.length; i++) assert.ok(windows[i] >= 1.9 * windows[i - 1], `round ${i} doubled`);
});

test('HyStart++: a rising RTT (a queue building) ends slow start without any loss', () => {
  const cc = new NewReno();
  // Flat for 4 rounds, then every round 10 ms slower: growth must slow to a crawl.
  const windows = runRounds(cc, 16, (round) => (round < 4 ? 1 : 1 + 10 * (round - 3)));
  const last = windows[windows.length - 1];
  const atExit = windows[5];
  assert.ok(last < 3 * atExit, `window ${last} stayed near ${atExit} instead of doubling on`);
  assert.ok(last < 2 ** 15 * 12000, 'far below what 16 rounds of slow start would reach');
});

test('acks of app-limited packets do not grow the window', () => {
  const cc = new NewReno();
  const before = cc.window;
  for (let i = 0; i < 100; i++) {
    cc.onPacketSent(MSS);
    cc.onPacketAcked(MSS, 0, true);
  }
  assert.equal(cc.window, before);
});
