/**
 * The sending half of one stream: bytes the application wrote, held until the peer
 * acknowledges them, so that lost ranges can be sent again. Chunks are kept by
 * reference (no copy on write); they are copied exactly once, into the packet.
 */

import { RangeSet } from './ranges.js';

/** Send-side state of one stream. */
export class SendStream {
  /** Offset of the first byte still held (everything below is acknowledged). */
  private bufferStart = 0;
  /** End of the written data (the final size once finished). */
  writeOffset = 0;
  /** Highest offset ever sent: new data starts here. */
  sentOffset = 0;
  /** Peer's flow-control limit for this stream. */
  maxData: number;
  /** True once `finish()` was called. */
  finished = false;
  /** True when a FIN still has to be (re)sent. */
  private finPending = false;
  /** True once the peer acknowledged the FIN. */
  finAcked = false;
  /** Reset error code once reset; null while open. */
  resetCode: number | null = null;
  /** True when a RESET_STREAM still has to be (re)sent. */
  resetPending = false;
  /** True once the peer acknowledged the RESET_STREAM. */
  resetAcked = false;

  private readonly chunks: Uint8Array[] = [];
  private readonly starts: number[] = [];
  private head = 0;
  private readonly lost = new RangeSet();
  private readonly acked = new RangeSet();

  constructor(
    initialMaxData: number,
    /** Most unacknowledged bytes held (the Duplex backpressure threshold). */
    readonly bufferLimit: number,
  ) {
    this.maxData = initialMaxData;
  }

  /** Bytes held, sent or not. */
  get buffered(): number {
    return this.writeOffset - this.bufferStart;
  }

  /** Room left for writes. */
  get space(): number {
    return Math.max(0, this.bufferLimit - this.buffered);
  }

  /**
   * True when everything is finished: the RESET acknowledged, or the FIN and every byte
   * before it. The FIN's frame can be acknowledged while earlier bytes are still being
   * retransmitted; the stream must live on until those are acknowledged too.
   */
  get done(): boolean {
    return this.resetAcked || (this.finAcked && this.bufferStart === this.writeOffset);
  }

  /** Appends as much of `data` as fits; returns the number of bytes accepted. */
  write(data: Uint8Array): number {
    if (this.finished || this.resetCode !== null) return 0;
    const n = Math.min(data.length, this.space);
    if (n === 0) return 0;
    this.chunks.push(n === data.length ? data : data.subarray(0, n));
    this.starts.push(this.writeOffset);
    this.writeOffset += n;
    return n;
  }

  /** Marks the end of the data. */
  finish(): void {
    if (this.finished || this.resetCode !== null) return;
    this.finished = true;
    this.finPending = true;
  }

  /** Abandons the stream; returns false when it was already reset or done. */
  reset(code: number): boolean {
    if (this.resetCode !== null || this.done) return false;
    this.resetCode = code;
    this.resetPending = true;
    this.dropBuffers();
    return true;
  }

  /** True when a STREAM frame is ready (retransmission, new data within `connectionCredit`, or a bare FIN). */
  wantsToSend(connectionCredit: number): boolean {
    if (this.resetCode !== null) return false;
    if (!this.lost.empty) return true;
    if (this.sentOffset < this.writeOffset && this.sentOffset < this.maxData && connectionCredit > 0) return true;
    return this.finPending && this.sentOffset === this.writeOffset;
  }

  /**
   * Chooses the next frame: lost bytes first, then new bytes. Returns null when nothing
   * fits; `isNew` tells the caller how much connection credit the frame consumed.
   */
  nextFrame(maxLength: number, connectionCredit: number): { offset: number; length: number; fin: boolean; isNew: boolean } | null {
    if (this.resetCode !== null) return null;
    const retransmit = this.lost.shift(maxLength);
    if (retransmit !== null) {
      const [start, end] = retransmit;
      return {
        offset: start,
        length: end - start,
        fin: this.finished && end === this.writeOffset && this.finPending && this.sentOffset === this.writeOffset ? this.takeFin() : false,
        isNew: false,
      };
    }
    const limit = Math.min(this.writeOffset, this.maxData, this.sentOffset + connectionCredit, this.sentOffset + maxLength);
    if (limit > this.sentOffset) {
      const offset = this.sentOffset;
      this.sentOffset = limit;
      const fin = this.finPending && limit === this.writeOffset ? this.takeFin() : false;
      return { offset, length: limit - offset, fin, isNew: true };
    }
    if (this.finPending && this.sentOffset === this.writeOffset) return { offset: this.writeOffset, length: 0, fin: this.takeFin(), isNew: false };
    return null;
  }

  private takeFin(): true {
    this.finPending = false;
    return true;
  }

  /** Copies stream bytes [offset, offset + length) into `dest` at `at`. */
  copyOut(offset: number, length: number, dest: Uint8Array, at: number): void {
    let i = this.findChunk(offset);
    let skip = offset - this.starts[i];
    while (length > 0) {
      const chunk = this.chunks[i];
      const n = Math.min(chunk.length - skip, length);
      dest.set(skip === 0 && n === chunk.length ? chunk : chunk.subarray(skip, skip + n), at);
      at += n;
      length -= n;
      skip = 0;
      i++;
    }
  }

  /** Index of the chunk holding `offset` (binary search over the live chunks). */
  private findChunk(offset: number): number {
    let lo = this.head;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The peer acknowledged a frame; frees acknowledged prefix. Returns true when buffer space grew. */
  onAck(offset: number, length: number, fin: boolean): boolean {
    if (fin) this.finAcked = true;
    if (this.resetCode !== null || length === 0) return false;
    let end = offset + length;
    if (end <= this.bufferStart) return false; // acknowledged already
    if (offset > this.bufferStart || !this.acked.empty) {
      // Out of order: keep the range until the gap below it is acknowledged too.
      // (In order, the common case, the acknowledged prefix just grows.)
      this.acked.add(Math.max(offset, this.bufferStart), end);
      if (this.acked.min! > this.bufferStart) return false;
      end = this.acked.range(0)[1];
      this.acked.removeBelow(end);
    }
    this.bufferStart = end;
    // Release fully acknowledged chunks.
    while (this.head < this.chunks.length && this.starts[this.head] + this.chunks[this.head].length <= end) {
      this.chunks[this.head] = EMPTY;
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks.splice(0, this.head);
      this.starts.splice(0, this.head);
      this.head = 0;
    }
    return true;
  }

  /** A frame was declared lost: queue the bytes (minus any acknowledged since) and the FIN again. */
  onLost(offset: number, length: number, fin: boolean): void {
    if (this.resetCode !== null) return;
    if (fin && !this.finAcked) this.finPending = true;
    const start = Math.max(offset, this.bufferStart);
    if (offset + length <= start) return;
    this.lost.add(start, offset + length);
    // Skip bytes acknowledged out of order in the meantime.
    for (let i = 0; i < this.acked.count; i++) {
      const [s, e] = this.acked.range(i);
      if (s < offset + length && e > start) this.lost.remove(s, e);
    }
  }

  /** RESET_STREAM frame lost or acknowledged. */
  onResetLost(): void {
    if (!this.resetAcked) this.resetPending = true;
  }

  private dropBuffers(): void {
    this.chunks.length = 0;
    this.starts.length = 0;
    this.head = 0;
    this.lost.clear();
    this.acked.clear();
    this.bufferStart = this.writeOffset;
  }
}

const EMPTY = new Uint8Array(0);
