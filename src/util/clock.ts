/**
 * Time source injected into every protocol module, so the same code runs on the
 * wall clock and on the simulated network's virtual clock.
 */

/** Opaque handle of a scheduled timer. */
export type TimerHandle = object;

/** Monotonic milliseconds plus timers. Protocol code never calls `setTimeout` or `Date.now` itself. */
export interface Clock {
  /** Monotonic time in milliseconds (not wall time). */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; unknown or fired handles are ignored. */
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** The real clock: `performance.now()` and Node timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
};

/**
 * A clock whose timers are all cancelled by {@link TrackedClock.clear}. The node
 * wraps its clock in one so that `stop()` leaves no timer behind, whatever module set it.
 */
export class TrackedClock implements Clock {
  private readonly live = new Set<TimerHandle>();
  constructor(private readonly inner: Clock) {}

  now(): number {
    return this.inner.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = this.inner.setTimeout(() => {
      this.live.delete(handle);
      fn();
    }, ms);
    this.live.add(handle);
    return handle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle !== undefined && this.live.delete(handle)) this.inner.clearTimeout(handle);
  }

  /** Number of timers still pending (for leak checks in tests). */
  get pending(): number {
    return this.live.size;
  }

  /** Cancels every pending timer. */
  clear(): void {
    for (const handle of this.live) this.inner.clearTimeout(handle);
    this.live.clear();
  }
}
