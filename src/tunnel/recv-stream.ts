/**
 * The receiving half of one stream: reassembles possibly reordered, duplicated and
 * overlapping STREAM frames into an ordered byte sequence, bounded by the flow-control
 * window it advertises. Credit grows only as the application reads.
 */

/**
 * A run of contiguous bytes received beyond the contiguous prefix: the pieces that
 * arrived back to back, in order. Keeping a run rather than one entry per frame means
 * the number of entries counts gaps (lost or reordered packets), not frames.
 */
interface Run {
  offset: number;
  end: number;
  /** The bytes of [offset, end), in order; their lengths sum to end - offset. */
  parts: Uint8Array[];
  /**
   * Owned buffer whose prefix is the last part, with room to append small pieces in place
   * (so a run of tiny frames is a few buffers, not an object per frame); null when the
   * last part is not such a buffer.
   */
  store: Uint8Array | null;
}

/** Small frames are copied so a 1-byte segment cannot pin a whole 1200-byte packet in memory. */
const COPY_BELOW = 256;

/** Largest buffer small pieces of one run are gathered into (then a new one starts). */
const STORE_MAX = 4096;

/**
 * Most runs (contiguous pieces separated by gaps) one stream keeps waiting for earlier
 * bytes. An honest sender leaves a gap only where a packet was lost or reordered, and its
 * frames are ~1 KB: a whole 1 MiB window holds ~1000 of them, so even losing every other
 * packet of a full window stays far below this. Only a peer that deliberately scatters
 * tiny frames with holes between them (≈ 524k per 1 MiB window at 1 byte each) gets here;
 * the limit keeps each insertion O(log n + limit) instead of letting the list grow with
 * the window.
 */
export const MAX_PENDING_RUNS = 4096;

/**
 * Most runs all streams of one connection keep together: without it a peer could hold
 * {@link MAX_PENDING_RUNS} in each of its up to 1024 streams (~4M runs, hundreds of MB).
 * ~150 B each, so this bounds reassembly overhead at a few MB per connection.
 */
export const MAX_CONNECTION_RUNS = 16_384;

/** The runs the streams of one connection hold, shared by their {@link RecvStream}s. */
export class RunBudget {
  used = 0;
  constructor(readonly max: number = MAX_CONNECTION_RUNS) {}
}

/**
 * The {@link RecvResult} returned when a frame would need more than {@link MAX_PENDING_RUNS}
 * runs. Not a flow-control violation (every byte was inside the window), so the caller
 * closes the connection with a protocol violation; compare by identity.
 */
export const TOO_MANY_GAPS = 'too many gaps in stream data';

/**
 * Result of {@link RecvStream.onData} and {@link RecvStream.onReset}: the bytes newly
 * counted against flow control, or the text of a violation: {@link TOO_MANY_GAPS}, or a
 * flow-control or final-size violation. (A number or a string rather than an object: no
 * allocation per received frame.) After a violation the stream is unusable: the
 * connection closes.
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
  /** Runs beyond the prefix, sorted by offset, never overlapping; live from `pendingHead` on. */
  private readonly pending: Run[] = [];
  private pendingHead = 0;

  constructor(
    readonly window: number,
    /** Shared by the connection's streams; a stream of its own when not given. */
    private readonly runs: RunBudget = new RunBudget(),
  ) {
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
    if (end > this.readyEnd && data.length > 0 && !this.insert(offset, data)) return TOO_MANY_GAPS;
    return newBytes;
  }

  /** Stores what the frame adds beyond the contiguous prefix; false when that needs too many runs. */
  private insert(offset: number, data: Uint8Array): boolean {
    if (offset < this.readyEnd) {
      data = data.subarray(this.readyEnd - offset);
      offset = this.readyEnd;
    }
    // A real copy (Buffer#slice would be a view): small pieces must not pin a whole packet.
    if (data.length < COPY_BELOW) data = Uint8Array.prototype.slice.call(data);
    if (offset === this.readyEnd) {
      // In order (the common case): new data wins over any stored copy of the same bytes.
      this.ready.push(data);
      this.readyEnd += data.length;
      if (this.pendingHead < this.pending.length) this.drainPending();
      return true;
    }
    // Out of order: keep only the parts no stored run covers yet (the first copy wins).
    const end = offset + data.length;
    const pending = this.pending;
    let i = this.firstEndingAfter(offset);
    let cursor = offset;
    while (cursor < end) {
      const next = i < pending.length ? pending[i] : undefined;
      if (next === undefined || next.offset >= end) return this.place(i, cursor, cursor === offset ? data : data.subarray(cursor - offset)) >= 0;
      if (next.offset > cursor) {
        i = this.place(i, cursor, data.subarray(cursor - offset, next.offset - offset));
        if (i < 0) return false;
      }
      cursor = Math.max(cursor, next.end);
      i++;
    }
    return true;
  }

  /** Index of the first live run ending after `offset` (binary search; runs' ends ascend). */
  private firstEndingAfter(offset: number): number {
    const pending = this.pending;
    let lo = this.pendingHead;
    let hi = pending.length;
    // Packets after a hole mostly arrive in order: check the last run first.
    if (lo === hi || pending[hi - 1].end <= offset) return hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pending[mid].end <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Stores `piece` (bytes from `at`, inside a gap) just before index `i`: appended to the run
   * it continues, else as a new run. Returns the new index of the run that was at `i`, or
   * -1 when a new run would exceed {@link MAX_PENDING_RUNS}.
   */
  private place(i: number, at: number, piece: Uint8Array): number {
    const pending = this.pending;
    const prev = i > this.pendingHead ? pending[i - 1] : undefined;
    if (prev !== undefined && prev.end === at) {
      this.append(prev, piece);
      return i;
    }
    if (pending.length - this.pendingHead >= MAX_PENDING_RUNS || this.runs.used >= this.runs.max) return -1;
    this.runs.used++;
    const run: Run = { offset: at, end: at + piece.length, parts: [piece], store: null };
    if (i === pending.length) pending.push(run);
    else pending.splice(i, 0, run);
    return i + 1;
  }

  /** Adds `piece` at the end of `run`; small pieces are gathered into one buffer. */
  private append(run: Run, piece: Uint8Array): void {
    const parts = run.parts;
    run.end += piece.length;
    if (piece.length >= COPY_BELOW) {
      parts.push(piece);
      run.store = null;
      return;
    }
    const n = parts.length - 1;
    const last = parts[n];
    const store = run.store;
    if (store !== null && store.length - last.length >= piece.length) {
      store.set(piece, last.length);
      parts[n] = store.subarray(0, last.length + piece.length);
    } else if (last.length < COPY_BELOW || (store !== null && store.length < STORE_MAX)) {
      // Grow by doubling: each byte is copied O(1) times on average.
      const length = last.length + piece.length;
      const grown = new Uint8Array(Math.max(64, Math.min(STORE_MAX, 2 * length), length));
      grown.set(last);
      grown.set(piece, last.length);
      parts[n] = grown.subarray(0, length);
      run.store = grown;
    } else {
      parts.push(piece);
      run.store = null;
    }
  }

  /** Moves the runs the contiguous prefix now reaches into `ready`. */
  private drainPending(): void {
    const pending = this.pending;
    let h = this.pendingHead;
    while (h < pending.length && pending[h].offset <= this.readyEnd) {
      const run = pending[h];
      pending[h++] = DRAINED;
      this.runs.used--;
      if (run.end <= this.readyEnd) continue;
      let skip = this.readyEnd - run.offset; // bytes the prefix already holds
      for (const part of run.parts) {
        if (skip >= part.length) {
          skip -= part.length;
          continue;
        }
        this.ready.push(skip > 0 ? part.subarray(skip) : part);
        skip = 0;
      }
      this.readyEnd = run.end;
    }
    // Drop drained slots once they are at least half the array: amortised O(1) per run.
    if (h === pending.length) {
      pending.length = 0;
      h = 0;
    } else if (h * 2 >= pending.length) {
      pending.splice(0, h);
      h = 0;
    }
    this.pendingHead = h;
  }

  /** Takes the next contiguous chunk (a view, no copy), or null when none is ready. */
  read(): Uint8Array | null {
    if (this.readyHead >= this.ready.length) return null;
    const chunk = this.ready[this.readyHead];
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
    this.runs.used -= this.pending.length - this.pendingHead;
    this.pending.length = 0;
    this.pendingHead = 0;
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
/** Placeholder for a drained run's slot until the array is compacted. */
const DRAINED: Run = { offset: 0, end: 0, parts: [], store: null };
