/**
 * A token-bucket pacer (RFC 9002 §7.7): spreads a window over the RTT at 1.25x the
 * congestion rate instead of bursting it. The bucket holds at least what the rate earns
 * in two timer ticks, because JS timers fire with millisecond granularity; a smaller
 * bucket would cap throughput on sub-millisecond paths such as loopback.
 */

const TICK_MS = 2;
const MIN_BURST_PACKETS = 10;

/** Paces sends of one connection. */
export class Pacer {
  private tokens: number;
  private last: number;
  private capacity: number;
  private rate = Infinity; // bytes per millisecond

  constructor(
    private readonly maxDatagram: number,
    now: number,
  ) {
    this.capacity = MIN_BURST_PACKETS * maxDatagram;
    this.tokens = this.capacity;
    this.last = now;
  }

  /** Recomputes the rate from the congestion window and smoothed RTT. */
  update(window: number, smoothedRttMs: number): void {
    this.rate = (1.25 * window) / Math.max(smoothedRttMs, 0.01);
    this.capacity = Math.max(MIN_BURST_PACKETS * this.maxDatagram, this.rate * TICK_MS);
  }

  /** Milliseconds until `bytes` may be sent (0 = now). */
  delay(now: number, bytes: number): number {
    this.refill(now);
    if (this.tokens >= bytes) return 0;
    return Math.max((bytes - this.tokens) / this.rate, 0.001);
  }

  /** Charges a sent packet. */
  onSent(now: number, bytes: number): void {
    this.refill(now);
    this.tokens = Math.max(0, this.tokens - bytes);
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.rate);
      this.last = now;
    }
  }
}
