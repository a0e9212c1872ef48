/**
 * The receive side of acknowledgement: which packet numbers arrived, duplicate
 * detection, and when an ACK is due (every second ack-eliciting packet, at once on
 * reordering, else after the max ack delay, as RFC 9000 §13.2 recommends).
 */

import { MAX_ACK_RANGES } from './frames.js';
import { RangeSet } from './ranges.js';

/** Packets carrying an ACK that are remembered until the peer acknowledges them. */
const MAX_ACK_CARRIERS = 256;

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
   * Ranges below this are no longer reported: the peer has confirmed receiving an ACK of
   * ours that covered them (RFC 9000 §13.2.4). Duplicate detection still uses every range.
   */
  private floor = 0;
  /** Packets of ours that carried an ACK, flat [pn, largest acked in it, ...], ascending pn. */
  private ackCarriers: number[] = [];

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

  /**
   * Ranges for an ACK frame ([high, low] pairs, highest first) and the ack delay in µs;
   * resets the schedule. Ranges the peer already knows we received are left out, except
   * that the highest range is always reported (an ACK frame needs one).
   */
  take(now: number): { ranges: number[]; delayMicros: number } {
    const ranges: number[] = [];
    const floor = this.floor;
    for (let i = this.received.count - 1; i >= 0; i--) {
      const [start, end] = this.received.range(i);
      if (end - 1 < floor) {
        if (ranges.length === 0) ranges.push(end - 1, start);
        break;
      }
      ranges.push(end - 1, start < floor ? floor : start);
    }
    this.fresh = false;
    this.elicitingUnacked = 0;
    this.immediate = false;
    this.deadlineAt = Infinity;
    return { ranges, delayMicros: Math.max(0, Math.round((now - this.largestTime) * 1000)) };
  }

  /** Our packet `pn` carried an ACK frame whose largest acknowledged was `largest`. */
  onAckSent(pn: number, largest: number): void {
    const c = this.ackCarriers;
    c.push(pn, largest);
    // Bounded: forgetting the oldest carriers only delays trimming.
    if (c.length > 2 * MAX_ACK_CARRIERS) c.splice(0, c.length - 2 * MAX_ACK_CARRIERS);
  }

  /**
   * The peer acknowledged our packets `ranges` ([high, low] pairs, highest first): where one
   * of them carried an ACK, the peer has seen it, so ranges up to its largest need not be
   * reported again. Carriers at or below the peer's largest are forgotten either way
   * (not covered means lost; a later carrier repeats what it said).
   */
  onPeerAck(ranges: readonly number[]): void {
    const c = this.ackCarriers;
    if (c.length === 0) return;
    const peerLargest = ranges[0];
    let r = ranges.length - 2; // lowest range first, as carriers ascend
    let i = 0;
    for (; i < c.length && c[i] <= peerLargest; i += 2) {
      const pn = c[i];
      while (r >= 0 && ranges[r] < pn) r -= 2;
      if (r >= 0 && pn >= ranges[r + 1] && c[i + 1] + 1 > this.floor) this.floor = c[i + 1] + 1;
    }
    if (i > 0) c.splice(0, i);
  }
}
