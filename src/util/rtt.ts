/**
 * Round-trip time estimation, one estimator for every layer: RFC 6298's smoothed RTT and
 * variance (alpha 1/8, beta 1/4), with RFC 9002 §5's additions for the tunnel (minimum RTT,
 * ack-delay correction, probe timeout, loss delay). Samples from retransmissions are never
 * fed in (Karn's rule): the caller decides.
 */

/** Limits of a retransmission timeout, ms. */
export interface RtoLimits {
  /** Before any sample. */
  initialRtoMs: number;
  minRtoMs: number;
  maxRtoMs: number;
}

/** Datagram RPC: a faster floor than TCP's 1 s, because a lost UDP request is cheap to resend. */
export const DEFAULT_RTO_LIMITS: RtoLimits = { initialRtoMs: 1000, minRtoMs: 50, maxRtoMs: 10_000 };

/** Timer granularity assumed by loss detection, ms. */
export const TIMER_GRANULARITY_MS = 1;

/** Smoothed RTT, RTT variation and minimum RTT of one peer or connection, in ms. */
export class RttEstimator {
  /** Most recent sample (the initial estimate before any). */
  latest: number;
  /** Smoothed RTT (7/8 old + 1/8 new); the initial estimate before any sample. */
  smoothed: number;
  /** RTT variation (3/4 old + 1/4 deviation). */
  variance: number;
  /** Lowest sample seen (Infinity before any). */
  min = Infinity;
  /** Samples taken. */
  samples = 0;

  /** @param initialRttMs - the estimate before any sample (e.g. the handshake round trip); 0 when there is none. */
  constructor(initialRttMs = 0) {
    this.latest = initialRttMs;
    this.smoothed = initialRttMs;
    this.variance = initialRttMs / 2;
  }

  /** The smoothed RTT once measured; undefined before the first sample. */
  get srtt(): number | undefined {
    return this.samples > 0 ? this.smoothed : undefined;
  }

  /** Folds in a sample; `ackDelayMs` is what the peer reported holding its acknowledgement back. Nonsense samples are ignored. */
  sample(sampleMs: number, ackDelayMs = 0): void {
    if (!(sampleMs >= 0) || !Number.isFinite(sampleMs)) return;
    this.latest = sampleMs;
    if (this.samples++ === 0) {
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

  /** Retransmission timeout (RFC 6298): SRTT + max(G, 4 RTTVAR), clamped; the initial RTO before any sample. */
  rto(limits: RtoLimits = DEFAULT_RTO_LIMITS): number {
    if (this.samples === 0) return limits.initialRtoMs;
    const rto = this.smoothed + Math.max(TIMER_GRANULARITY_MS, 4 * this.variance);
    return Math.min(limits.maxRtoMs, Math.max(limits.minRtoMs, rto));
  }

  /** Probe timeout before backoff (RFC 9002): srtt + max(4 rttvar, granularity) + the peer's max ack delay. */
  pto(maxAckDelayMs: number): number {
    return this.smoothed + Math.max(4 * this.variance, TIMER_GRANULARITY_MS) + maxAckDelayMs;
  }

  /** Time threshold of loss detection: 9/8 max(srtt, latest), at least the granularity. */
  lossDelay(): number {
    return Math.max((9 / 8) * Math.max(this.smoothed, this.latest), TIMER_GRANULARITY_MS);
  }
}
