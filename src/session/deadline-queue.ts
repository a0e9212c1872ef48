/**
 * Deadlines of many items on one clock timer: a binary min-heap of (due, item) with lazy
 * deletion. The RPC layer has one deadline per outstanding request; a timer pair
 * (setTimeout/clearTimeout) per request cost more than the heap, and almost every
 * request is answered long before its deadline, so cancelling must be O(1): it only marks
 * the item, and stale heap slots are dropped when they surface (or compacted in bulk).
 */
import type { Clock, TimerHandle } from '../util/clock.js';

/** What the queue needs of an item: the due time it was last scheduled for (written by the queue). */
export interface Deadlined {
  /** Clock time the item is due, or -1 when not scheduled. Owned by the {@link DeadlineQueue}. */
  due: number;
}

/** Items due at clock times; `onDue` runs for each once its time has come (unless cancelled or rescheduled first). */
export class DeadlineQueue<T extends Deadlined> {
  private dues: number[] = [];
  private items: T[] = [];
  /** Scheduled items (heap slots minus stale ones). */
  private live = 0;
  private timer: TimerHandle | undefined = undefined;
  /** Due time the clock timer is armed for (Infinity when not armed). */
  private armedFor = Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly onDue: (item: T) => void,
  ) {}

  /** Items scheduled. */
  get size(): number {
    return this.live;
  }

  /** (Re)schedules `item` for clock time `due`, replacing any earlier schedule of it. */
  schedule(item: T, due: number): void {
    if (item.due < 0) this.live++;
    item.due = due;
    this.push(due, item);
    if (due < this.armedFor) this.arm(due);
    if (this.dues.length > 64 && this.dues.length > 4 * this.live) this.compact();
  }

  /** Unschedules `item` (O(1): its heap slot goes stale). */
  cancel(item: T): void {
    if (item.due < 0) return;
    item.due = -1;
    this.live--;
  }

  /** Stops the clock timer and forgets every item. */
  close(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
    for (const item of this.items) item.due = -1;
    this.dues = [];
    this.items = [];
    this.live = 0;
  }

  private arm(due: number): void {
    this.clock.clearTimeout(this.timer);
    this.armedFor = due;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(1, due - this.clock.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = this.clock.now();
    try {
      this.runDue(now);
    } finally {
      // Re-armed even when a handler threw: the other items still need their timer.
      if (this.dues.length > 0 && this.dues[0] < this.armedFor) this.arm(this.dues[0]);
    }
  }

  private runDue(now: number): void {
    while (this.dues.length > 0) {
      const due = this.dues[0];
      const item = this.items[0];
      if (item.due !== due) {
        this.pop(); // stale: cancelled or rescheduled
        continue;
      }
      if (due > now) break;
      this.pop();
      item.due = -1;
      this.live--;
      // A handler may schedule again (a retransmission): its new due lies after `now`.
      this.onDue(item);
    }
  }

  private push(due: number, item: T): void {
    const dues = this.dues;
    const items = this.items;
    let i = dues.length;
    dues.push(due);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (dues[parent] <= due) break;
      dues[i] = dues[parent]!;
      items[i] = items[parent]!;
      i = parent;
    }
    dues[i] = due;
    items[i] = item;
  }

  private pop(): void {
    const dues = this.dues;
    const items = this.items;
    const lastDue = dues.pop()!;
    const lastItem = items.pop()!;
    const n = dues.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && dues[child + 1] < dues[child]) child++;
      if (dues[child] >= lastDue) break;
      dues[i] = dues[child]!;
      items[i] = items[child]!;
      i = child;
    }
    dues[i] = lastDue;
    items[i] = lastItem;
  }

  /** Drops stale slots (many cancelled items, e.g. answered requests) and rebuilds the heap. */
  private compact(): void {
    const dues = this.dues;
    const items = this.items;
    this.dues = [];
    this.items = [];
    for (let i = 0; i < dues.length; i++) if (items[i].due === dues[i]) this.push(dues[i], items[i]);
  }
}
