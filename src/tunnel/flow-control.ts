/**
 * Connection-level flow control (RFC 9000 §4): how much the peer may send us in total
 * across all streams (`MAX_DATA` we advertise), and how much we may send it.
 */

/** Credit both sides assume before the peer's first MAX_DATA. */
export const INITIAL_CONNECTION_CREDIT = 1024 * 1024;

/** Both directions of connection-level credit. */
export class ConnectionFlow {
  /** Limit the peer gave us. */
  txMax = INITIAL_CONNECTION_CREDIT;
  /** New stream bytes we sent (retransmissions excluded). */
  txUsed = 0;
  /** Limit we advertised. */
  rxMax: number;
  /** Highest offsets received, summed over streams. */
  private rxHighest = 0;
  /** Bytes the application read or we discarded. */
  private rxConsumed = 0;
  /** A MAX_DATA frame should go out. */
  updatePending: boolean;

  constructor(private readonly window: number) {
    // Advertise the configured window right away when it exceeds the assumed initial credit.
    this.rxMax = Math.max(INITIAL_CONNECTION_CREDIT, window);
    this.updatePending = this.rxMax > INITIAL_CONNECTION_CREDIT;
  }

  /** Credit left for new stream bytes. */
  get txCredit(): number {
    return this.txMax - this.txUsed;
  }

  /** Counts newly received bytes; false when the peer exceeded our limit. */
  received(bytes: number): boolean {
    this.rxHighest += bytes;
    return this.rxHighest <= this.rxMax;
  }

  /** Counts consumed bytes; raises the limit once half the window is used. */
  consumed(bytes: number): void {
    if (bytes <= 0) return;
    this.rxConsumed += bytes;
    if (this.rxMax - this.rxConsumed <= this.window / 2) {
      this.rxMax = this.rxConsumed + this.window;
      this.updatePending = true;
    }
  }

  /** The peer raised our limit; true when it grew. */
  raise(max: number): boolean {
    if (max <= this.txMax) return false;
    this.txMax = max;
    return true;
  }
}
