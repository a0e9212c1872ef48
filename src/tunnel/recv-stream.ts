/**
 * The receiving half of one stream: reassembles possibly reordered, duplicated and
 * overlapping STREAM frames into an ordered byte sequence, bounded by the flow-control
 * window it advertises. Credit grows only as the application reads.
 */

/** Segment received beyond the contiguous prefix. */
interface Segment {
  offset: number;
  data: Uint8Array;
}

/** Small frames are copied so a 1-byte segment cannot pin a whole 1200-byte packet in memory. */
const COPY_BELOW = 256;

/**
 * Result of {@link RecvStream.onData} and {@link RecvStream.onReset}: the bytes newly
 * counted against flow control, or the text of a flow-control or final-size violation.
 * (A number or a string rather than an object: no allocation per received frame.)
 */
export type RecvResult = number | string;

/** Receive-side state of one stream. */
export class RecvStream {
  /** Bytes consumed by the application. */
  readOffset = 0;
  /** End of the contiguous received prefix. */
  private readyEnd = 0;
  /** Highest offset received (for connection-level flow control). */
  highestReceived = 0;
  /** Our advertised limit (MAX_STREAM_DATA). */
  maxAdvertised: number;
  /** Final size once the FIN or a RESET_STREAM arrived. */
  finalSize: number | null = null;
  /** Peer's reset code, once reset. */
  resetCode: number | null = null;
  /** True once the application stopped reading (STOP_SENDING sent); data is then discarded. */
  discarding = false;
  /** True once the end (or reset) was reported to the application. */
  endDelivered = false;

  private readonly ready: Uint8Array[] = [];
  private readyHead = 0;
  private readonly pending: Segment[] = [];

  constructor(readonly window: number) {
    this.maxAdvertised = window;
  }

  /** True once all data up to the final size has been read (or discarded). */
  get complete(): boolean {
    return this.finalSize !== null && this.readOffset === this.finalSize;
  }

  /** True when `read()` would return data. */
  get hasData(): boolean {
    return this.readyHead < this.ready.length;
  }

  /** Accepts a STREAM frame. */
  onData(offset: number, data: Uint8Array, fin: boolean): RecvResult {
    const end = offset + data.length;
    if (end > this.maxAdvertised) return 'stream flow control exceeded';
    if (this.finalSize !== null && (end > this.finalSize || (fin && end !== this.finalSize))) return 'final size changed';
    if (fin) {
      if (end < this.highestReceived) return 'final size below received data';
      this.finalSize = end;
    }
    const newBytes = Math.max(0, end - this.highestReceived);
    this.highestReceived = Math.max(this.highestReceived, end);
    if (this.resetCode !== null || this.discarding) {
      // Nobody will read it: count it as consumed so connection credit is not lost.
      this.readyEnd = this.highestReceived;
      this.readOffset = this.highestReceived;
      return newBytes;
    }
    if (end > this.readyEnd && data.length > 0) this.insert(offset, data);
    return newBytes;
  }

  private insert(offset: number, data: Uint8Array): void {
    if (offset < this.readyEnd) {
      data = data.subarray(this.readyEnd - offset);
      offset = this.readyEnd;
    }
    // A real copy (Buffer#slice would be a view): small pieces must not pin a whole packet.
    if (data.length < COPY_BELOW) data = Uint8Array.prototype.slice.call(data);
    if (offset === this.readyEnd) {
      this.ready.push(data);
      this.readyEnd += data.length;
      this.drainPending();
      return;
    }
    // Out of order: keep only the parts no stored segment covers yet.
    const end = offset + data.length;
    const pending = this.pending;
    let i = 0;
    while (i < pending.length && pending[i]!.offset + pending[i]!.data.length <= offset) i++;
    let cursor = offset;
    while (cursor < end) {
      const next = pending[i];
      if (next === undefined || next.offset >= end) {
        pending.splice(i, 0, { offset: cursor, data: data.subarray(cursor - offset) });
        break;
      }
      if (next.offset > cursor) {
        pending.splice(i, 0, { offset: cursor, data: data.subarray(cursor - offset, next.offset - offset) });
        i++;
      }
      cursor = Math.max(cursor, next.offset + next.data.length);
      i++;
    }
  }

  private drainPending(): void {
    const pending = this.pending;
    let n = 0;
    while (n < pending.length && pending[n]!.offset <= this.readyEnd) {
      const seg = pending[n]!;
      const segEnd = seg.offset + seg.data.length;
      if (segEnd > this.readyEnd) {
        this.ready.push(seg.data.subarray(this.readyEnd - seg.offset));
        this.readyEnd = segEnd;
      }
      n++;
    }
    if (n > 0) pending.splice(0, n);
  }

  /** Takes the next contiguous chunk (a view, no copy), or null when none is ready. */
  read(): Uint8Array | null {
    if (this.readyHead >= this.ready.length) return null;
    const chunk = this.ready[this.readyHead]!;
    this.ready[this.readyHead++] = EMPTY;
    if (this.readyHead === this.ready.length) {
      this.ready.length = 0;
      this.readyHead = 0;
    } else if (this.readyHead > 256) {
      this.ready.splice(0, this.readyHead);
      this.readyHead = 0;
    }
    this.readOffset += chunk.length;
    return chunk;
  }

  /** Peer reset its side: drop everything; returns the newly accounted bytes, or an error. */
  onReset(code: number, finalSize: number): RecvResult {
    if (finalSize < this.highestReceived || (this.finalSize !== null && finalSize !== this.finalSize)) return 'final size changed';
    if (finalSize > this.maxAdvertised) return 'stream flow control exceeded';
    const newBytes = finalSize - this.highestReceived;
    this.highestReceived = finalSize;
    this.finalSize = finalSize;
    this.resetCode = code;
    this.discard();
    return newBytes;
  }

  /** Drops buffered data and everything that arrives later (counted as read). */
  discard(): void {
    this.ready.length = 0;
    this.readyHead = 0;
    this.pending.length = 0;
    this.readOffset = this.highestReceived;
    this.readyEnd = this.highestReceived;
  }

  /** New MAX_STREAM_DATA value when the window has moved by half, else null. */
  creditUpdate(): number | null {
    if (this.finalSize !== null) return null; // the peer sends nothing more
    const target = this.readOffset + this.window;
    if (target - this.maxAdvertised < this.window / 2) return null;
    this.maxAdvertised = target;
    return target;
  }
}

const EMPTY = new Uint8Array(0);
