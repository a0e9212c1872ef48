import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VirtualClock } from '../../src/util/virtual-clock.js';
import { mulberry32 } from '../../src/transport/sim/random.js';
import type { TimerHandle } from '../../src/util/clock.js';

describe('VirtualClock', () => {
  test('time only moves on advance, which ends exactly at the target', () => {
    const clock = new VirtualClock(100);
    assert.equal(clock.now(), 100);
    assert.equal(clock.advance(0), 0);
    clock.advance(25.5);
    assert.equal(clock.now(), 125.5);
  });

  test('timers fire in (time, insertion) order with now() at their due time', () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    const note = (label: string) => () => seen.push(`${label}@${clock.now()}`);
    clock.setTimeout(note('c'), 30);
    clock.setTimeout(note('a1'), 10);
    clock.setTimeout(note('b'), 20);
    clock.setTimeout(note('a2'), 10);
    clock.setTimeout(note('zero'), 0);
    clock.setTimeout(note('negative'), -5);
    assert.equal(clock.pending, 6);
    assert.equal(clock.nextDue, 0);
    assert.equal(clock.advance(20), 5);
    assert.deepEqual(seen, ['zero@0', 'negative@0', 'a1@10', 'a2@10', 'b@20']);
    assert.equal(clock.pending, 1);
    clock.advance(100);
    assert.deepEqual(seen.at(-1), 'c@30');
    assert.equal(clock.now(), 120);
  });

  test('timers set while advancing run if they fall inside the window', () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    clock.setTimeout(() => {
      seen.push(clock.now());
      clock.setTimeout(() => seen.push(clock.now()), 5); // at 15: inside
      clock.setTimeout(() => seen.push(clock.now()), 50); // at 60: outside
    }, 10);
    clock.advance(20);
    assert.deepEqual(seen, [10, 15]);
    assert.equal(clock.pending, 1);
  });

  test('clearTimeout cancels, including from inside another timer; unknown handles are ignored', () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    const later = clock.setTimeout(() => seen.push('later'), 10);
    clock.setTimeout(() => {
      seen.push('first');
      clock.clearTimeout(later);
    }, 5);
    const cancelled = clock.setTimeout(() => seen.push('cancelled'), 1);
    clock.clearTimeout(cancelled);
    clock.clearTimeout(cancelled);
    clock.clearTimeout(undefined);
    clock.clearTimeout({});
    clock.advance(100);
    assert.deepEqual(seen, ['first']);
    assert.equal(clock.pending, 0);
  });

  test('randomised schedule/cancel keeps heap order (checked against a sort)', () => {
    const random = mulberry32(42);
    const clock = new VirtualClock();
    const expected: Array<{ time: number; id: number }> = [];
    const handles = new Map<number, TimerHandle>();
    const fired: number[] = [];
    for (let id = 0; id < 2000; id++) {
      const time = Math.floor(random() * 500);
      handles.set(
        id,
        clock.setTimeout(() => fired.push(id), time),
      );
      expected.push({ time, id });
      if (random() < 0.3) {
        const victim = Math.floor(random() * id);
        if (handles.has(victim)) {
          clock.clearTimeout(handles.get(victim));
          handles.delete(victim);
          expected.splice(
            expected.findIndex((e) => e.id === victim),
            1,
          );
        }
      }
    }
    expected.sort((a, b) => a.time - b.time || a.id - b.id);
    clock.advance(1000);
    assert.deepEqual(
      fired,
      expected.map((e) => e.id),
    );
  });

  test('runUntilIdle stops at the last timer, or at maxMs with timers still pending', () => {
    const clock = new VirtualClock();
    clock.setTimeout(() => clock.setTimeout(() => undefined, 40), 10);
    assert.equal(clock.runUntilIdle(), 2);
    assert.equal(clock.now(), 50);
    const tick = () => clock.setTimeout(tick, 10); // never idle
    tick();
    assert.equal(clock.runUntilIdle(95), 9);
    assert.equal(clock.now(), 145);
    assert.equal(clock.runUntilIdle(Infinity, 3), 3);
  });

  test('a throwing timer propagates and leaves the rest pending', () => {
    const clock = new VirtualClock();
    let ran = false;
    clock.setTimeout(() => {
      throw new Error('boom');
    }, 5);
    clock.setTimeout(() => (ran = true), 6);
    assert.throws(() => clock.advance(10), /boom/);
    assert.equal(clock.now(), 5);
    assert.equal(ran, false);
    clock.advance(10);
    assert.equal(ran, true);
  });

  test('advance is not re-entrant', () => {
    const clock = new VirtualClock();
    clock.setTimeout(() => clock.advance(1), 1);
    assert.throws(() => clock.advance(5), { code: 'ERR_LIMIT' });
  });

  test('run() lets promise chains started by a timer finish before the next timer', async () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    async function worker(name: string, delays: number[]): Promise<void> {
      for (const ms of delays) {
        await sleep(ms);
        // a long chain of awaits: more than any fixed number of Promise.resolve() hops
        for (let i = 0; i < 50; i++) await Promise.resolve();
        seen.push(`${name}@${clock.now()}`);
      }
    }
    const done = Promise.all([worker('a', [10, 10, 10]), worker('b', [15, 15])]);
    const fired = await clock.run(100);
    await done;
    // b's second sleep was set at 15, before a's third (set at 20): b fires first at 30.
    assert.deepEqual(seen, ['a@10', 'b@15', 'a@20', 'b@30', 'a@30']);
    assert.equal(fired, 5);
    assert.equal(clock.now(), 100);
  });

  test('runUntilIdleAsync stops when async work is finished', async () => {
    const clock = new VirtualClock();
    const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    let finished = false;
    void (async () => {
      await sleep(5);
      await sleep(7);
      finished = true;
    })();
    await clock.runUntilIdleAsync();
    assert.equal(finished, true);
    assert.equal(clock.now(), 12);
  });

  test('async runs cannot overlap', async () => {
    const clock = new VirtualClock();
    clock.setTimeout(() => undefined, 5);
    const first = clock.run(10);
    await assert.rejects(clock.run(10), { code: 'ERR_LIMIT' });
    assert.equal(await first, 1);
    assert.equal(clock.now(), 10);
  });

  test('bad arguments throw ERR_INVALID_ARGUMENT', () => {
    const clock = new VirtualClock();
    assert.throws(() => clock.advance(-1), { code: 'ERR_INVALID_ARGUMENT' });
    assert.throws(() => clock.advance(Number.NaN), { code: 'ERR_INVALID_ARGUMENT' });
    assert.throws(() => new VirtualClock(Number.NaN), { code: 'ERR_INVALID_ARGUMENT' });
  });
});
