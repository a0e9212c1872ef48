/**
 * Round-trip time estimation as RFC 6298 specifies for TCP: smoothed RTT, RTT
 * variance, and a retransmission timeout derived from both. Samples from
 * retransmitted requests are never fed in (Karn's rule): the caller decides.
 */

/** Limits of the retransmission timeout, in milliseconds. */
export interface RttLimits {
  initialRtoMs: number;
  minRtoMs: number;
  maxRtoMs: number;
}

/** Defaults tuned for datagram RPC: a faster floor than TCP's 1 s because a lost UDP RPC is cheap to resend. */
export const DEFAULT_RTT_LIMITS: RttLimits = { initialRtoMs: 1000, minRtoMs: 50, maxRtoMs: 10_000 };

/** One peer's RTT state. */
export class RttEstimator {
  /** Smoothed RTT in ms, undefined before the first sample. */
  srtt: number | undefined;
  rttvar = 0;
  samples = 0;

  constructor(private readonly limits: RttLimits = DEFAULT_RTT_LIMITS) {}

  /** Feeds one measured round trip. */
  sample(rttMs: number): void {
    if (!(rttMs >= 0) || !Number.isFinite(rttMs)) return;
    this.samples++;
    if (this.srtt === undefined) {
      this.srtt = rttMs;
      this.rttvar = rttMs / 2;
      return;
    }
    // alpha = 1/8, beta = 1/4 (RFC 6298 section 2.3)
    this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rttMs);
    this.srtt = 0.875 * this.srtt + 0.125 * rttMs;
  }

  /** Current retransmission timeout: SRTT + max(G, 4 * RTTVAR), clamped. */
  rto(): number {
    if (this.srtt === undefined) return this.limits.initialRtoMs;
    const rto = this.srtt + Math.max(1, 4 * this.rttvar);
    return Math.min(this.limits.maxRtoMs, Math.max(this.limits.minRtoMs, rto));
  }
}
