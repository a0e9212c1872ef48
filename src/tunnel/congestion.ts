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
}

/** Options of {@link NewReno}. */
export interface NewRenoOptions {
  /** Datagram size the window is counted in (default 1200). */
  maxDatagram?: number;
  /** Upper bound of the window in bytes (bounds memory in flight; default 16 MiB). */
  maxWindow?: number;
}

/** RFC 9002 NewReno. */
export class NewReno implements CongestionController {
  window: number;
  bytesInFlight = 0;
  private ssthresh = Infinity;
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
    if (this.window < this.ssthresh) this.window += bytes;
    else this.window += (this.mds * bytes) / this.window;
    if (this.window > this.maxWindow) this.window = this.maxWindow;
  }

  onPacketsLost(bytes: number, largestLostTimeSent: number, now: number): void {
    this.bytesInFlight = Math.max(0, this.bytesInFlight - bytes);
    if (largestLostTimeSent <= this.recoveryStart) return; // already reduced for this loss episode
    this.recoveryStart = now;
    this.ssthresh = this.window / 2;
    this.window = Math.max(this.ssthresh, this.minWindow);
  }

  discard(bytes: number): void {
    this.bytesInFlight = Math.max(0, this.bytesInFlight - bytes);
  }

  onPersistentCongestion(): void {
    this.window = this.minWindow;
    this.recoveryStart = -Infinity;
  }
}
