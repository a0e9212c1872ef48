import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FEW_COUNTERS, PeerReplayState, REPLAY_WINDOW_SIZE, ReplayWindow } from '../../src/session/replay-window.js';

const MAX = (1n << 64n) - 1n;

test('in-order counters are accepted once; duplicates are rejected', () => {
  const w = new ReplayWindow();
  assert.equal(w.highest, -1n);
  for (let i = 0n; i < 100n; i++) {
    assert.ok(w.check(i));
    assert.ok(w.accept(i));
    assert.equal(w.check(i), false);
    assert.equal(w.accept(i), false);
  }
  assert.equal(w.highest, 99n);
});

test('check does not mark; accept does', () => {
  const w = new ReplayWindow();
  assert.ok(w.check(5n));
  assert.ok(w.check(5n));
  assert.ok(w.accept(5n));
  assert.equal(w.check(5n), false);
  assert.ok(w.check(4n), 'a counter below the top that was not seen is still acceptable');
});

test('reordered counters inside the window are accepted once', () => {
  const w = new ReplayWindow();
  const order = [10n, 3n, 7n, 0n, 12n, 11n, 1n, 2n, 9n, 8n, 4n, 6n, 5n];
  for (const c of order) assert.ok(w.accept(c), `first ${c}`);
  for (const c of order) assert.equal(w.accept(c), false, `replay ${c}`);
  assert.equal(w.highest, 12n);
});

test('window edges: top - 2047 is inside, top - 2048 is too old', () => {
  const w = new ReplayWindow();
  const top = 10_000n;
  assert.ok(w.accept(top));
  const size = BigInt(REPLAY_WINDOW_SIZE);
  assert.equal(w.check(top - size), false);
  assert.equal(w.accept(top - size), false);
  assert.ok(w.check(top - size + 1n));
  assert.ok(w.accept(top - size + 1n));
  assert.equal(w.accept(top - size + 1n), false);
  // Sliding by one pushes the oldest slot out, and its bit must not leak onto the new top.
  assert.ok(w.accept(top + 1n));
  assert.equal(w.check(top - size + 1n), false);
  assert.ok(w.check(top - size + 2n));
});

test('a jump of a full window or more forgets everything below', () => {
  const w = new ReplayWindow();
  for (let i = 0n; i < 50n; i++) w.accept(i);
  assert.ok(w.accept(49n + 5000n));
  for (let i = 0n; i < 50n; i++) assert.equal(w.check(i), false);
  assert.ok(w.accept(49n + 5000n - 2047n));
  // A jump of exactly the window size clears every slot (they all belonged to older counters).
  const v = new ReplayWindow();
  for (let i = 0n; i < 2048n; i++) assert.ok(v.accept(i));
  assert.ok(v.accept(2047n + 2048n));
  for (let i = 2048n; i < 2047n + 2048n; i++) assert.ok(v.check(i), `slot ${i} free after slide`);
});

test('the uint64 range: counters near 2^32, 2^53 and 2^64 - 1', () => {
  for (const base of [0xffffffffn, BigInt(Number.MAX_SAFE_INTEGER), MAX - 3000n]) {
    const w = new ReplayWindow();
    for (let i = 0n; i <= 3000n; i += 7n) assert.ok(w.accept(base + i));
    for (let i = 0n; i <= 3000n; i += 7n) assert.equal(w.accept(base + i), false);
    assert.ok(w.accept(base + 1n) === false, 'old counter outside the window');
    assert.ok(w.accept(base + 3000n - 1n));
  }
  const w = new ReplayWindow();
  assert.ok(w.accept(MAX));
  assert.equal(w.accept(MAX), false);
  assert.ok(w.accept(MAX - 2047n));
  assert.equal(w.check(MAX + 1n), false, 'beyond uint64');
  assert.equal(w.accept(-1n), false);
  assert.equal(new ReplayWindow().accept(MAX + 1n), false);
  assert.equal(new ReplayWindow().check(-1n), false);
  assert.ok(new ReplayWindow().accept(7), 'number counters are accepted too');
});

test('random sequences agree with a reference model', () => {
  let seed = 99;
  const rand = (n: number): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) % n;
  for (let run = 0; run < 20; run++) {
    const w = new ReplayWindow();
    const seen = new Set<bigint>();
    let top = -1n;
    let next = BigInt(rand(3)) * 0xffffffffn;
    for (let step = 0; step < 3000; step++) {
      // Mostly forward, some reordering, duplicates, stale counters and big jumps.
      const r = rand(100);
      let c: bigint;
      if (r < 60) c = next++;
      else if (r < 80) c = next - BigInt(rand(2100));
      else if (r < 95) c = [...seen][rand(Math.max(seen.size, 1))] ?? 0n;
      else c = next += BigInt(rand(5000));
      if (c < 0n) c = 0n;
      const expected = c > top || (top - c < 2048n && !seen.has(c));
      assert.equal(w.check(c), expected, `check ${c} top ${top}`);
      assert.equal(w.accept(c), expected, `accept ${c} top ${top}`);
      if (expected) {
        seen.add(c);
        if (c > top) top = c;
      }
      if (seen.size > 4096) for (const s of seen) if (top - s >= 2048n) seen.delete(s);
    }
  }
});

test('number and bigint counters take the same decisions, across 2^53 too (the number fast path)', () => {
  let seed = 7;
  const rand = (n: number): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) % n;
  // Starts below 2^53 and crosses it: the number-fed window must switch to bigints and still agree.
  for (const start of [0n, 2n ** 53n - 3000n]) {
    const asNumbers = new ReplayWindow();
    const asBigints = new ReplayWindow();
    let next = start;
    for (let step = 0; step < 6000; step++) {
      const r = rand(100);
      let c = r < 70 ? next++ : r < 90 ? next - BigInt(rand(2100)) : (next += BigInt(rand(300)));
      if (c < 0n) c = 0n;
      // A session layer hands over numbers below 2^53 and bigints beyond (packet.ts sessionCounter).
      const asNumber = c <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(c) : c;
      assert.equal(asNumbers.check(asNumber), asBigints.check(c), `check ${c}`);
      assert.equal(asNumbers.accept(asNumber), asBigints.accept(c), `accept ${c}`);
      assert.equal(asNumbers.highest, asBigints.highest);
    }
  }
});

const boot = (n: number): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
};

test('PeerReplayState: stale boots are rejected, newer boots reset the window', () => {
  const state = new PeerReplayState();
  assert.equal(state.bootId, null);
  assert.ok(state.check(boot(100), 0n));
  assert.ok(state.accept(boot(100), 0n));
  assert.ok(state.accept(boot(100), 1n));
  assert.equal(state.accept(boot(100), 1n), false, 'duplicate');
  // Older boot: a replay of a previous run of the peer.
  assert.equal(state.check(boot(99), 500n), false);
  assert.equal(state.accept(boot(99), 500n), false);
  // Newer boot: counters start again at 0.
  assert.ok(state.check(boot(101), 0n));
  assert.ok(state.check(boot(100), 2n), 'check does not switch boots');
  assert.ok(state.accept(boot(101), 0n));
  assert.equal(state.accept(boot(101), 0n), false);
  assert.equal(state.accept(boot(100), 2n), false, 'the previous boot is now stale');
  assert.ok(state.accept(boot(101), 1n));
});

test('PeerReplayState copies the boot ID (header bytes are views into reusable buffers)', () => {
  const state = new PeerReplayState();
  const datagramBuffer = new Uint8Array(16);
  datagramBuffer.set(boot(5), 4);
  assert.ok(state.accept(datagramBuffer.subarray(4, 12), 3n));
  datagramBuffer.fill(0xff);
  assert.deepEqual([...state.bootId!], [...boot(5)]);
  assert.equal(state.accept(boot(5), 3n), false);
  assert.equal(state.accept(boot(5), -1n), false);
  assert.equal(state.accept(boot(6), MAX + 1n), false, 'out-of-range counter does not switch boots');
  assert.deepEqual([...state.bootId!], [...boot(5)]);
});

test('the first few counters live in a list; the bitmap that replaces it keeps them', () => {
  const w = new ReplayWindow();
  const peek = () => (w as unknown as { bits: Uint32Array | null }).bits;
  const first = [100, 40, 70, 90].slice(0, FEW_COUNTERS);
  for (const c of first) assert.ok(w.accept(c), `first ${c}`);
  assert.equal(peek(), null, 'no bitmap while the list holds them');
  for (const c of first) assert.equal(w.check(c), false, `listed ${c} is seen`);
  assert.ok(w.check(41));
  assert.ok(w.accept(41), 'one more allocates the bitmap');
  assert.ok(peek() !== null);
  for (const c of [...first, 41]) assert.equal(w.accept(c), false, `replay of ${c} after the switch`);
  assert.ok(w.accept(42));
});

test('listed counters that fall out of the window are dropped, so a sparse peer never needs the bitmap', () => {
  const w = new ReplayWindow();
  const peek = () => (w as unknown as { bits: Uint32Array | null }).bits;
  // One datagram to this peer per 1,000 of the sender's counter (it talks to others in between).
  for (let i = 0; i < 50; i++) assert.ok(w.accept(i * 1000), `counter ${i * 1000}`);
  assert.equal(peek(), null);
  assert.equal(w.check(48_000), false, 'inside the window and seen');
  assert.equal(w.check(47_000), false, 'outside the window');
  assert.ok(w.check(48_500), 'inside the window, unseen');
});

test('a new boot forgets the list and the bitmap', () => {
  const state = new PeerReplayState();
  const boot1 = new Uint8Array(16).fill(1);
  const boot2 = new Uint8Array(16).fill(2);
  for (let c = 0; c < 10; c++) assert.ok(state.accept(boot1, c));
  assert.ok(state.accept(boot2, 3));
  for (const c of [0, 1, 2, 4]) assert.ok(state.check(boot2, c), `${c} unseen in the new boot`);
  assert.equal(state.check(boot2, 3), false);
  assert.equal(state.check(boot1, 11), false, 'the old boot is stale');
});

test('matches a plain set-based model on random sequences (list, switch and bitmap alike)', () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let run = 0; run < 200; run++) {
    const w = new ReplayWindow();
    const seen = new Set<number>();
    let top = -1;
    let next = 0;
    for (let step = 0; step < 60; step++) {
      // Mostly forward with gaps of up to 1,500, sometimes a replay or a late one up to 2,500 back.
      const r = random();
      const c = r < 0.6 ? (next += 1 + Math.floor(random() * 1500)) : Math.max(0, top - Math.floor(random() * 2500));
      const fresh = c > top || (top - c < REPLAY_WINDOW_SIZE && !seen.has(c));
      assert.equal(w.check(c), fresh, `run ${run} step ${step}: check ${c} (top ${top})`);
      assert.equal(w.accept(c), fresh, `run ${run} step ${step}: accept ${c} (top ${top})`);
      if (fresh) {
        seen.add(c);
        top = Math.max(top, c);
        next = Math.max(next, top);
      }
    }
  }
});

test('seal: the list or bitmap goes, every counter up to the highest stays refused, newer ones are accepted', () => {
  for (const seen of [3, 100]) {
    const window = new ReplayWindow();
    for (let c = 1; c <= seen; c++) assert.ok(window.accept(c));
    assert.ok(!window.accept(seen - 1));
    window.seal();
    assert.equal(window.highest, BigInt(seen));
    for (const c of [0, 1, seen - 1, seen]) {
      assert.ok(!window.check(c), `check ${c} after seal`);
      assert.ok(!window.accept(c), `accept ${c} after seal`);
    }
    assert.ok(window.check(seen + 2));
    assert.ok(window.accept(seen + 2));
    assert.ok(window.accept(seen + 1), 'a counter above the floor, reordered, is still accepted once');
    assert.ok(!window.accept(seen + 1));
    assert.ok(!window.accept(seen), 'the floor holds after new counters');
  }
});

test('seal holds when a later counter takes the window past 2^53 (the bigint path)', () => {
  const near = 2 ** 53 - 10;
  const window = new ReplayWindow();
  for (let c = near - 5; c <= near; c++) assert.ok(window.accept(c));
  window.seal();
  assert.ok(window.accept(2n ** 53n + 5n), 'past 2^53: the bigint path');
  for (let c = near - 5; c <= near; c++) {
    assert.ok(!window.check(BigInt(c)), `check ${c}`);
    assert.ok(!window.accept(BigInt(c)), `accept ${c}`);
  }
  assert.ok(window.accept(BigInt(near + 1)), 'above the floor and inside the window: accepted once');
  assert.ok(!window.accept(BigInt(near + 1)));
});
