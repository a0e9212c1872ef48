/**
 * A deterministic, manually driven {@link Clock} for simulations and tests.
 *
 * Time only moves when the owner calls {@link VirtualClock.advance},
 * {@link VirtualClock.runUntilIdle} or {@link VirtualClock.run}. Timers live in a
 * binary min-heap ordered by (due time, insertion sequence), so two timers due at
 * the same instant always fire in the order they were set: the same program gives
 * the same run, every time.
 */
import { MccError, invalidArgument } from '../errors.js';
import type { Clock, TimerHandle } from './clock.js';

/** One scheduled timer; also the opaque handle returned by `setTimeout`. */
class VirtualTimer {
  /** Position in the heap array, -1 once fired or cancelled. */
  index = -1;
  constructor(
    readonly time: number,
    readonly seq: number,
    public fn: (() => void) | undefined,
  ) {}
}

/** Resolves on the next macrotask: by then every queued microtask and nextTick has run. */
function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Virtual time in milliseconds with deterministic timer ordering. */
export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly heap: VirtualTimer[] = [];
  private busy = false;
  private runningAsync = false;

  /** @param startMs the initial value of {@link VirtualClock.now} (default 0). */
  constructor(startMs = 0) {
    if (!Number.isFinite(startMs)) throw invalidArgument('startMs', 'expected a finite number');
    this.current = startMs;
  }

  /** Current virtual time in milliseconds. */
  now(): number {
    return this.current;
  }

  /** Schedules `fn` at `now() + ms`; negative or non-finite delays mean "now" (it still waits for the next advance). */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer = new VirtualTimer(this.current + delay, this.seq++, fn);
    this.push(timer);
    return timer;
  }

  /** Cancels a timer; unknown, fired or already cancelled handles are ignored. */
  clearTimeout(handle: TimerHandle | undefined): void {
    if (!(handle instanceof VirtualTimer) || handle.index < 0 || this.heap[handle.index] !== handle) return;
    this.removeAt(handle.index);
    handle.fn = undefined;
  }

  /** Number of timers waiting to fire. */
  get pending(): number {
    return this.heap.length;
  }

  /** Due time of the earliest pending timer, or `undefined` when none is pending. */
  get nextDue(): number | undefined {
    return this.heap[0]?.time;
  }

  /**
   * Moves time forward by `ms`, firing every timer due in the window in
   * (time, seq) order; timers set by those callbacks that fall inside the window
   * fire too. Ends with `now()` exactly `ms` later. Returns the number of timers
   * fired. An exception from a callback propagates; the clock then stays at that
   * timer's time and the remaining timers stay pending.
   */
  advance(ms: number): number {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw invalidArgument('ms', 'expected a finite number >= 0');
    const target = this.current + ms;
    const fired = this.fireUntil(target, Number.POSITIVE_INFINITY);
    this.current = target;
    return fired;
  }

  /**
   * Fires timers until none is pending, time would pass `now() + maxMs`, or
   * `maxTimers` timers have fired (a guard against self-rescheduling loops).
   * Time stops at the last fired timer (it does not jump to the limit) unless
   * a timer is still pending beyond the limit, in which case it ends at the limit.
   * Returns the number of timers fired.
   */
  runUntilIdle(maxMs = Number.POSITIVE_INFINITY, maxTimers = 10_000_000): number {
    if (!(maxMs >= 0)) throw invalidArgument('maxMs', 'expected a number >= 0');
    const limit = this.current + maxMs;
    const fired = this.fireUntil(limit, maxTimers);
    if (this.heap.length > 0 && Number.isFinite(limit) && fired < maxTimers) this.current = limit;
    return fired;
  }

  /**
   * Async {@link VirtualClock.advance}: fires the timers due within `ms` one by one
   * and, before each firing and at the end, yields a full macrotask
   * (`setImmediate`) so promise continuations started by a timer run before the
   * next timer fires — as they would on the real event loop. A macrotask boundary
   * is used rather than a loop of `await Promise.resolve()` because only it
   * guarantees the whole microtask queue (promise chains of any length, and
   * `process.nextTick`) has drained; a fixed number of promise hops does not.
   * Deterministic as long as nothing else in the process does real I/O.
   * Returns the number of timers fired.
   */
  async run(ms: number): Promise<number> {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw invalidArgument('ms', 'expected a finite number >= 0');
    return this.runAsync(this.current + ms, Number.POSITIVE_INFINITY, true);
  }

  /**
   * Async {@link VirtualClock.runUntilIdle}: like {@link VirtualClock.run} but stops
   * as soon as no timer is pending (after the microtasks have drained), or at
   * `now() + maxMs`, or after `maxTimers` firings. Returns the number of timers fired.
   */
  async runUntilIdleAsync(maxMs = Number.POSITIVE_INFINITY, maxTimers = 10_000_000): Promise<number> {
    if (!(maxMs >= 0)) throw invalidArgument('maxMs', 'expected a number >= 0');
    return this.runAsync(this.current + maxMs, maxTimers, false);
  }

  /** Shared loop of the async runners; `toLimit` moves time to `limit` at the end even when idle. */
  private async runAsync(limit: number, maxTimers: number, toLimit: boolean): Promise<number> {
    if (this.runningAsync) throw new MccError('ERR_LIMIT', 'VirtualClock is already running asynchronously');
    this.runningAsync = true;
    let fired = 0;
    try {
      for (;;) {
        await nextMacrotask();
        const top = this.heap[0];
        if (top === undefined || top.time > limit || fired >= maxTimers) break;
        fired += this.fireUntil(top.time, 1);
      }
    } finally {
      this.runningAsync = false;
    }
    if (toLimit || (this.heap.length > 0 && Number.isFinite(limit) && fired < maxTimers)) this.current = Math.max(this.current, limit);
    return fired;
  }

  /** Fires due timers up to `target` (inclusive), at most `max` of them. */
  private fireUntil(target: number, max: number): number {
    if (this.busy) throw new MccError('ERR_LIMIT', 'VirtualClock is already running timers (advance/run are not re-entrant)');
    this.busy = true;
    let fired = 0;
    try {
      while (fired < max) {
        const top = this.heap[0];
        if (top === undefined || top.time > target) break;
        this.removeAt(0);
        if (top.time > this.current) this.current = top.time;
        const fn = top.fn!;
        top.fn = undefined;
        fired++;
        fn();
      }
    } finally {
      this.busy = false;
    }
    return fired;
  }

  private static before(a: VirtualTimer, b: VirtualTimer): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }

  private push(timer: VirtualTimer): void {
    timer.index = this.heap.length;
    this.heap.push(timer);
    this.siftUp(timer.index);
  }

  private removeAt(index: number): void {
    const heap = this.heap;
    const removed = heap[index];
    const last = heap.pop()!;
    removed.index = -1;
    if (last === removed) return;
    heap[index] = last;
    last.index = index;
    if (index > 0 && VirtualClock.before(last, heap[(index - 1) >> 1])) this.siftUp(index);
    else this.siftDown(index);
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    const timer = heap[index];
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex];
      if (!VirtualClock.before(timer, parent)) break;
      heap[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    heap[index] = timer;
    timer.index = index;
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    const size = heap.length;
    const timer = heap[index];
    for (;;) {
      const left = 2 * index + 1;
      if (left >= size) break;
      const right = left + 1;
      const child = right < size && VirtualClock.before(heap[right], heap[left]) ? right : left;
      const candidate = heap[child];
      if (!VirtualClock.before(candidate, timer)) break;
      heap[index] = candidate;
      candidate.index = index;
      index = child;
    }
    heap[index] = timer;
    timer.index = index;
  }
}
