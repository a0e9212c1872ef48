/** Round-trip time estimation as in RFC 9002 §5 (the RFC 6298 estimator with ack-delay correction). */

/** Timer granularity assumed by loss detection, in milliseconds. */
export const TIMER_GRANULARITY_MS = 1;

/** Smoothed RTT, RTT variation and minimum RTT of one connection, in milliseconds. */
export class RttEstimator {
  /** Most recent sample. */
  latest: number;
  /** Smoothed RTT (7/8 old + 1/8 new). */
  smoothed: number;
  /** RTT variation (3/4 old + 1/4 deviation). */
  variance: number;
  /** Lowest sample seen. */
  min = Infinity;
  private hasSample = false;

  /** @param initialRttMs - the estimate before any sample (e.g. the handshake round trip). */
  constructor(initialRttMs: number) {
    this.latest = initialRttMs;
    this.smoothed = initialRttMs;
    this.variance = initialRttMs / 2;
  }

  /** Folds in a sample; `ackDelayMs` is what the peer reported holding the ack back. */
  update(sampleMs: number, ackDelayMs: number): void {
    this.latest = sampleMs;
    if (!this.hasSample) {
      this.hasSample = true;
      this.min = sampleMs;
      this.smoothed = sampleMs;
      this.variance = sampleMs / 2;
      return;
    }
    this.min = Math.min(this.min, sampleMs);
    // Only subtract the peer's ack delay when the result stays above the minimum (RFC 9002 §5.3).
    const adjusted = sampleMs >= this.min + ackDelayMs ? sampleMs - ackDelayMs : sampleMs;
    this.variance = 0.75 * this.variance + 0.25 * Math.abs(this.smoothed - adjusted);
    this.smoothed = 0.875 * this.smoothed + 0.125 * adjusted;
  }

  /** Probe timeout before backoff: srtt + max(4 rttvar, granularity) + the peer's max ack delay. */
  pto(maxAckDelayMs: number): number {
    return this.smoothed + Math.max(4 * this.variance, TIMER_GRANULARITY_MS) + maxAckDelayMs;
  }

  /** Time threshold of loss detection: 9/8 max(srtt, latest), at least the granularity. */
  lossDelay(): number {
    return Math.max((9 / 8) * Math.max(this.smoothed, this.latest), TIMER_GRANULARITY_MS);
  }
}
