/**
 * The receive side of acknowledgement: which packet numbers arrived, duplicate
 * detection, and when an ACK is due (every second ack-eliciting packet, at once on
 * reordering, else after the max ack delay, as RFC 9000 §13.2 recommends).
 */

import { MAX_ACK_RANGES } from './frames.js';
import { RangeSet } from './ranges.js';

/** Received packet numbers and the ACK schedule of one connection. */
export class AckState {
  private readonly received = new RangeSet();
  private largest = -1;
  private largestTime = 0;
  /** Something arrived since the last ACK we sent (piggyback it on the next packet). */
  private fresh = false;
  private elicitingUnacked = 0;
  private immediate = false;
  private deadlineAt = Infinity;

  /**
   * @param maxAckDelayMs - longest an ACK for an ack-eliciting packet is held back.
   * @param ackEvery - ack-eliciting packets that trigger an immediate ACK (RFC 9000 says 2;
   *   more saves a sealed packet per few data packets, which dominates CPU on fast paths).
   */
  constructor(
    private readonly maxAckDelayMs: number,
    private readonly ackEvery = 2,
  ) {}

  /** Records `pn`; false when it is a duplicate (or too old to tell). */
  onPacket(pn: number, now: number): boolean {
    const min = this.received.min;
    if (min !== undefined && (pn < min || this.received.has(pn))) return false;
    if (this.largest >= 0 && pn !== this.largest + 1) this.immediate = true; // gap or reorder: tell the sender soon
    this.received.add(pn, pn + 1);
    this.received.truncate(MAX_ACK_RANGES);
    if (pn > this.largest) {
      this.largest = pn;
      this.largestTime = now;
    }
    this.fresh = true;
    return true;
  }

  /** The packet just recorded carried ack-eliciting frames. */
  onAckEliciting(now: number): void {
    this.elicitingUnacked++;
    if (this.deadlineAt === Infinity) this.deadlineAt = now + this.maxAckDelayMs;
  }

  /** True when an ACK-only packet should go out now. */
  due(now: number): boolean {
    return this.elicitingUnacked > 0 && (this.elicitingUnacked >= this.ackEvery || this.immediate || now >= this.deadlineAt);
  }

  /** True when there is anything new to acknowledge (worth piggybacking). */
  get pending(): boolean {
    return this.fresh;
  }

  /** The ACK timer deadline (Infinity when none). */
  deadline(): number {
    return this.elicitingUnacked > 0 ? this.deadlineAt : Infinity;
  }

  /** Ranges for an ACK frame ([high, low] pairs, highest first) and the ack delay in µs; resets the schedule. */
  take(now: number): { ranges: number[]; delayMicros: number } {
    const ranges: number[] = [];
    for (let i = this.received.count - 1; i >= 0; i--) {
      const [start, end] = this.received.range(i);
      ranges.push(end - 1, start);
    }
    this.fresh = false;
    this.elicitingUnacked = 0;
    this.immediate = false;
    this.deadlineAt = Infinity;
    return { ranges, delayMicros: Math.max(0, Math.round((now - this.largestTime) * 1000)) };
  }
}
