/**
 * A tunnel stream as a `node:stream` Duplex. Backpressure runs end to end: `write()`
 * returns false once the connection's send buffer for this stream is full (the chunk
 * waits in Node's writable buffer until acknowledgements free space), and data is only
 * pulled out of the connection, which is what grants the peer more flow-control
 * credit, while the readable side wants more. `end()` half-closes (FIN);
 * `destroy(err)` resets both directions (RESET_STREAM + STOP_SENDING).
 */

import { Duplex } from 'node:stream';
import { MccError } from '../errors.js';

/** What a stream needs from its connection (implemented by TunnelConnection). */
export interface StreamHost {
  streamWrite(id: number, data: Uint8Array): number;
  streamFinish(id: number): void;
  streamRead(id: number): Uint8Array | null;
  streamTakeEnd(id: number): boolean;
  streamAbort(id: number, code: number): void;
  streamReleased(id: number): void;
}

/** Default high-water mark of both sides of a stream. */
export const STREAM_HIGH_WATER_MARK = 64 * 1024;

/** One bidirectional byte stream of a tunnel connection. */
export class TunnelStream extends Duplex {
  /** Stream ID within its connection (even: opened by the initiator, odd: by the responder). */
  readonly id: number;
  private readonly host: StreamHost;
  private reading = false;
  private pending: { chunk: Uint8Array; callback: (error?: Error | null) => void } | null = null;

  /** Created by TunnelConnection; applications get streams from `openStream()` or the `stream` event. */
  constructor(host: StreamHost, id: number) {
    super({ highWaterMark: STREAM_HIGH_WATER_MARK, allowHalfOpen: true, decodeStrings: true });
    this.host = host;
    this.id = id;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const accepted = this.host.streamWrite(this.id, chunk);
    if (accepted === chunk.length) callback();
    else this.pending = { chunk: chunk.subarray(accepted), callback };
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.host.streamFinish(this.id);
    callback();
  }

  override _read(): void {
    this.reading = true;
    this.pull();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!(this.writableFinished && this.readableEnded)) this.host.streamAbort(this.id, 0);
    this.host.streamReleased(this.id);
    const pending = this.pending;
    this.pending = null;
    pending?.callback(error ?? new MccError('ERR_STREAM', 'stream destroyed'));
    callback(error);
  }

  /** @internal The connection has data (or the end) for this stream. */
  onReadable(): void {
    if (this.reading) this.pull();
  }

  /** @internal Acknowledgements freed send-buffer space. */
  onWritable(): void {
    const pending = this.pending;
    if (pending === null) return;
    const accepted = this.host.streamWrite(this.id, pending.chunk);
    if (accepted === pending.chunk.length) {
      this.pending = null;
      pending.callback();
    } else {
      pending.chunk = pending.chunk.subarray(accepted);
    }
  }

  /**
   * Moves received chunks into the readable buffer while the consumer wants more. The
   * chunks (one per packet, ~1.1 KB) go in joined, as much as the buffer has room for:
   * copying a packet costs far less than a push and a 'data' event per packet, and the
   * consumer (a TCP socket behind a forward) gets fewer, larger writes.
   */
  private pull(): void {
    const host = this.host;
    while (this.reading) {
      const first = host.streamRead(this.id);
      if (first === null) {
        if (host.streamTakeEnd(this.id)) {
          this.reading = false;
          this.push(null);
        }
        return;
      }
      let room = this.readableHighWaterMark - this.readableLength - first.length;
      let next: Uint8Array | null = room > 0 ? host.streamRead(this.id) : null;
      if (next === null) {
        this.reading = this.push(first);
        continue;
      }
      const chunks = this.gathered;
      chunks.push(first);
      let total = first.length;
      // Stops at the room left (reading is what grants the peer credit, so nothing is pulled
      // beyond what the consumer buffers), or when the connection has no more.
      while (next !== null) {
        chunks.push(next);
        total += next.length;
        room -= next.length;
        next = room > 0 ? host.streamRead(this.id) : null;
      }
      const joined = Buffer.allocUnsafe(total);
      let at = 0;
      for (const chunk of chunks) {
        joined.set(chunk, at);
        at += chunk.length;
      }
      chunks.length = 0;
      this.reading = this.push(joined);
    }
  }

  /** Scratch list of the chunks {@link pull} joins (reused: no array per pull). */
  private readonly gathered: Uint8Array[] = [];
}
