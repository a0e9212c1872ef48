/**
 * NewReno congestion control exactly as RFC 9002 §7 / Appendix B specifies it for QUIC:
 * slow start, congestion avoidance of one datagram per window, halving on loss with one
 * reduction per recovery period, and persistent-congestion collapse. docs/tunnel.md says
 * why NewReno rather than CUBIC.
 */

/** The congestion controller seam (a CUBIC implementation can replace NewReno here). */
export interface CongestionController {
  /** Congestion window in bytes. */
  readonly window: number;
  /** Bytes sent and neither acknowledged nor declared lost. */
  readonly bytesInFlight: number;
  onPacketSent(bytes: number): void;
  /** `appLimited`: the sender had less than a window in flight, so the ack says nothing about capacity. */
  onPacketAcked(bytes: number, timeSent: number, appLimited: boolean): void;
  onPacketsLost(bytes: number, largestLostTimeSent: number, now: number): void;
  /** Removes bytes from flight without a congestion signal (e.g. probes discarded on close). */
  discard(bytes: number): void;
  onPersistentCongestion(): void;
  /**
   * An RTT sample from an ACK that newly acknowledged `largestAcked`; `nextPn` is the
   * next packet number to be sent (delimits rounds). Optional: delay-aware slow start.
   */
  onRttSample?(rttMs: number, largestAcked: number, nextPn: number): void;
}

/** HyStart++ (RFC 9406) constants. */
const MIN_RTT_THRESH_MS = 4;
const MAX_RTT_THRESH_MS = 16;
const MIN_RTT_DIVISOR = 8;
/**
 * RFC 9406 says 8, assuming an ACK every 2 packets; our receivers ACK once per batch
 * (8 to 32+ packets), so a whole early round may bring fewer than 8 samples.
 */
const N_RTT_SAMPLE = 3;
const CSS_GROWTH_DIVISOR = 4;
const CSS_ROUNDS = 5;

/** Options of {@link NewReno}. */
export interface NewRenoOptions {
  /** Datagram size the window is counted in (default 1200). */
  maxDatagram?: number;
  /** Upper bound of the window in bytes (bounds memory in flight; default 16 MiB). */
  maxWindow?: number;
}

/**
 * RFC 9002 NewReno with HyStart++ (RFC 9406) slow start: slow start ends when the RTT
 * of a round grows by max(4 ms, minRTT/8) over the previous round's, i.e. when a queue
 * builds, rather than only at the first loss. Without it slow start doubles the window
 * until the bottleneck buffer (on loopback: the receiver's socket buffer) overflows
 * and drops hundreds of packets at once.
 */
export class NewReno implements CongestionController {
  window: number;
  bytesInFlight = 0;
  private ssthresh = Infinity;
  // HyStart++ state: rounds are delimited by packet numbers.
  private roundEnd = -1;
  private lastRoundMinRtt = Infinity;
  private currentRoundMinRtt = Infinity;
  private rttSamples = 0;
  /** Baseline RTT while in conservative slow start; Infinity outside it. */
  private cssBaselineMinRtt = Infinity;
  private cssRounds = 0;
  private recoveryStart = -Infinity;
  private readonly mds: number;
  private readonly maxWindow: number;
  private readonly minWindow: number;

  constructor(options: NewRenoOptions = {}) {
    this.mds = options.maxDatagram ?? 1200;
    this.maxWindow = options.maxWindow ?? 16 * 1024 * 1024;
    this.minWindow = 2 * this.mds;
    this.window = Math.min(10 * this.mds, Math.max(14720, 2 * this.mds));
  }

  onPacketSent(bytes: number): void {
    this.bytesInFlight += bytes;
  }

  onPacketAcked(bytes: number, timeSent: number, appLimited: boolean): void {
    this.bytesInFlight = Math.max(0, this.bytesInFlight - bytes);
    if (timeSent <= this.recoveryStart || appLimited) return;
    if (this.window < this.ssthresh) this.window += this.cssBaselineMinRtt === Infinity ? bytes : bytes / CSS_GROWTH_DIVISOR;
    else this.window += (this.mds * bytes) / this.window;
    if (this.window > this.maxWindow) this.window = this.maxWindow;
  }

  onPacketsLost(bytes: number, largestLostTimeSent: number, now: number): void {
    this.bytesInFlight = Math.max(0, this.bytesInFlight - bytes);
    if (largestLostTimeSent <= this.recoveryStart) return; // already reduced for this loss episode
    this.recoveryStart = now;
    this.cssBaselineMinRtt = Infinity;
    this.ssthresh = this.window / 2;
    this.window = Math.max(this.ssthresh, this.minWindow);
  }

  onRttSample(rttMs: number, largestAcked: number, nextPn: number): void {
    if (this.window >= this.ssthresh) return; // HyStart++ only runs in slow start
    if (largestAcked >= this.roundEnd) {
      // A new round: the packets of the previous one are all acknowledged.
      this.roundEnd = nextPn;
      this.lastRoundMinRtt = this.currentRoundMinRtt;
      this.currentRoundMinRtt = Infinity;
      this.rttSamples = 0;
      if (this.cssBaselineMinRtt !== Infinity && ++this.cssRounds >= CSS_ROUNDS) {
        this.ssthresh = this.window; // conservative slow start confirmed the exit: congestion avoidance
        this.cssBaselineMinRtt = Infinity;
        return;
      }
    }
    this.currentRoundMinRtt = Math.min(this.currentRoundMinRtt, rttMs);
    this.rttSamples++;
    if (this.cssBaselineMinRtt !== Infinity) {
      // The RTT went back down: the increase was spurious, resume slow start.
      if (this.currentRoundMinRtt < this.cssBaselineMinRtt) this.cssBaselineMinRtt = Infinity;
      return;
    }
    if (this.rttSamples >= N_RTT_SAMPLE && this.lastRoundMinRtt !== Infinity) {
      const eta = Math.min(Math.max(this.lastRoundMinRtt / MIN_RTT_DIVISOR, MIN_RTT_THRESH_MS), MAX_RTT_THRESH_MS);
      if (this.currentRoundMinRtt >= this.lastRoundMinRtt + eta) {
        this.cssBaselineMinRtt = this.currentRoundMinRtt;
        this.cssRounds = 0;
      }
    }
  }

  discard(bytes: number): void {
    this.bytesInFlight = Math.max(0, this.bytesInFlight - bytes);
  }

  onPersistentCongestion(): void {
    this.window = this.minWindow;
    this.recoveryStart = -Infinity;
  }
}
