/**
 * The streams of one connection: opening (implicitly for the peer, as in QUIC), the
 * application API (write, finish, read, abort), per-stream and per-connection flow
 * control, frame scheduling (round robin across streams, a quantum each), the fate of sent frames,
 * and the event queue the IO layer drains. Sans-IO like the connection around it.
 *
 * Stream IDs: the initiator's streams are even, the responder's odd.
 */

import { MccError } from '../errors.js';
import type { TunnelConfig } from './config.js';
import { ConnectionFlow } from './flow-control.js';
import { FrameType, writeStreamHeader, writeVarintFrame } from './frames.js';
import { MAX_CONNECTION_RUNS, RecvStream, RunBudget, TOO_MANY_GAPS, type RecvResult } from './recv-stream.js';
import type { SentFrame } from './recovery.js';
import { SendStream } from './send-stream.js';
import { INITIAL_STREAM_CREDIT, StreamCode, type ConnectionEvent, type StreamEntry } from './stream-types.js';
import { varintLength } from './varint.js';

export { INITIAL_STREAM_CREDIT, StreamCode, type ConnectionEvent } from './stream-types.js';

/**
 * Bytes a stream sends before the next one's turn. Round robin per packet made 50
 * concurrent 16 KiB HTTP answers finish together, each after all 50 were sent; served
 * a quantum at a time they finish one after the other (mean wait halved), and each
 * arrives in a few back-to-back packets that the receiver hands on in one write.
 */
const SEND_QUANTUM = 32 * 1024;

/** Room a control frame may need: type byte and three 8-byte varints. */
const CONTROL_ROOM = 25;

/** Stream state and flow control of one connection. */
export class StreamTable {
  private readonly map = new Map<number, StreamEntry>();
  private readonly events: ConnectionEvent[] = [];
  private readonly sendQueue: StreamEntry[] = [];
  private readonly control = new Set<StreamEntry>();
  /** Bytes the stream at the head of the send queue sent since it got there (see SEND_QUANTUM). */
  private headSent = 0;
  private nextLocal: number;
  private nextPeer: number;
  private localOpen = 0;
  private peerOpen = 0;
  private readonly flow: ConnectionFlow;
  private closed = false;
  private violation: { code: number; reason: string } | null = null;
  /** Out-of-order runs of all streams together: honest gaps (one per lost ~1 KB packet) scale with the connection window. */
  private readonly runBudget: RunBudget;

  constructor(
    initiator: boolean,
    private readonly config: TunnelConfig,
  ) {
    this.nextLocal = initiator ? 0 : 1;
    this.nextPeer = initiator ? 1 : 0;
    this.flow = new ConnectionFlow(config.connectionWindow);
    this.runBudget = new RunBudget(Math.max(MAX_CONNECTION_RUNS, Math.ceil(config.connectionWindow / 1024)));
  }

  /** Number of open streams. */
  get size(): number {
    return this.map.size;
  }

  /** Next queued event. */
  pollEvent(): ConnectionEvent | undefined {
    const event = this.events.shift();
    if (event?.type === 'readable') {
      const entry = this.map.get(event.id);
      if (entry) entry.readableQueued = false;
    }
    return event;
  }

  /** The protocol violation found while processing frames, if any (cleared on read). */
  takeViolation(): { code: number; reason: string } | null {
    const v = this.violation;
    this.violation = null;
    return v;
  }

  // ---- application API ----

  /** Opens a local stream; returns its ID. */
  open(): number {
    if (this.closed) throw new MccError('ERR_STOPPED', 'tunnel connection is closed');
    if (this.localOpen >= this.config.maxStreams) throw new MccError('ERR_LIMIT', `at most ${this.config.maxStreams} streams per connection`);
    const id = this.nextLocal;
    this.nextLocal += 2;
    this.create(id, true);
    return id;
  }

  /** Buffers as much of `data` as the send buffer takes; a short count means wait for `writable`. */
  write(id: number, data: Uint8Array): number {
    const e = this.map.get(id);
    if (e === undefined || e.aborted) return 0;
    const n = e.send.write(data);
    if (n < data.length) e.writeWanted = true;
    if (n > 0) this.enqueue(e);
    return n;
  }

  /** Half-closes the sending side (FIN after the buffered data). */
  finish(id: number): void {
    const e = this.map.get(id);
    if (e === undefined || e.aborted) return;
    e.send.finish();
    this.enqueue(e);
  }

  /** Next received chunk (no copy), or null. Reading is what grants the peer more credit. */
  read(id: number): Uint8Array | null {
    const e = this.map.get(id);
    if (e === undefined) return null;
    const chunk = e.recv.read();
    if (chunk === null) return null;
    this.flow.consumed(chunk.length);
    const credit = e.recv.creditUpdate();
    if (credit !== null) {
      e.creditPending = true;
      this.control.add(e);
    }
    return chunk;
  }

  /** True once, when all data was read and the FIN reached: the caller ends its readable side. */
  takeEnd(id: number): boolean {
    const e = this.map.get(id);
    if (e === undefined || e.recv.endDelivered || !e.recv.complete || e.recv.resetCode !== null) return false;
    e.recv.endDelivered = true;
    this.maybeRemove(e);
    return true;
  }

  /** Abandons both directions: RESET_STREAM for what we send, STOP_SENDING for what we receive. */
  abort(id: number, code: number = StreamCode.CANCELLED): void {
    const e = this.map.get(id);
    if (e === undefined || e.aborted) return;
    e.aborted = true;
    if (e.send.reset(code)) this.control.add(e);
    if (!e.recv.endDelivered) {
      // Discard what is unread even when the FIN is in, or the entry waits forever for a read.
      e.recv.discarding = true;
      if (e.recv.finalSize === null) {
        // Still sending: ask the peer to stop (once the final size is known there is nothing to stop).
        e.stopPending = true;
        e.stopCode = code;
        this.control.add(e);
      }
    }
    const before = e.recv.readOffset;
    e.recv.discard();
    this.flow.consumed(e.recv.readOffset - before);
    this.maybeRemove(e);
  }

  /** Bytes the stream holds unacknowledged (for diagnostics). */
  buffered(id: number): number {
    return this.map.get(id)?.send.buffered ?? 0;
  }

  // ---- packet building ----

  /** True when a packet would carry stream or control frames. */
  hasWork(): boolean {
    if (this.closed) return false;
    if (this.flow.updatePending || this.control.size > 0) return true;
    const credit = this.flow.txCredit;
    while (this.sendQueue.length > 0) {
      const e = this.sendQueue[0];
      if (this.map.has(e.id) && e.send.wantsToSend(credit)) return true;
      this.rotate();
    }
    return false;
  }

  /** Writes control frames, then stream frames round robin, into `buf[at..end)`; records them in `frames`. */
  writeFrames(buf: Uint8Array, at: number, end: number, frames: SentFrame[]): number {
    if (this.flow.updatePending && end - at >= CONTROL_ROOM) {
      at = writeVarintFrame(buf, at, FrameType.MAX_DATA, this.flow.rxMax);
      frames.push({ kind: 'max-data' });
      this.flow.updatePending = false;
    }
    if (this.control.size > 0) at = this.writeControlFrames(buf, at, end, frames);
    while (this.sendQueue.length > 0 && end - at > 32) {
      const e = this.sendQueue[0];
      const f = this.map.has(e.id) ? e.send.nextFrame(end - at - (1 + varintLength(e.id) + varintLength(e.send.writeOffset) + 2), this.flow.txCredit) : null;
      if (f === null) {
        this.rotate();
        continue;
      }
      at = writeStreamHeader(buf, at, e.id, f.offset, f.length, f.fin);
      e.send.copyOut(f.offset, f.length, buf, at);
      at += f.length;
      if (f.isNew) this.flow.txUsed += f.length;
      frames.push({ kind: 'stream', id: e.id, offset: f.offset, length: f.length, fin: f.fin });
      this.headSent += f.length;
      if (this.headSent >= SEND_QUANTUM || !e.send.wantsToSend(this.flow.txCredit)) {
        this.rotate();
        this.enqueue(e); // back of the queue
      }
    }
    return at;
  }

  /** RESET_STREAM, STOP_SENDING and MAX_STREAM_DATA frames of streams that need them. */
  private writeControlFrames(buf: Uint8Array, at: number, end: number, frames: SentFrame[]): number {
    for (const e of this.control) {
      if (end - at < 3 * CONTROL_ROOM) break;
      this.control.delete(e);
      if (e.send.resetPending) {
        at = writeVarintFrame(buf, at, FrameType.RESET_STREAM, e.id, e.send.resetCode!, e.send.sentOffset);
        e.send.resetPending = false;
        frames.push({ kind: 'reset', id: e.id });
      }
      if (e.stopPending) {
        at = writeVarintFrame(buf, at, FrameType.STOP_SENDING, e.id, e.stopCode);
        e.stopPending = false;
        frames.push({ kind: 'stop', id: e.id });
      }
      if (e.creditPending) {
        at = writeVarintFrame(buf, at, FrameType.MAX_STREAM_DATA, e.id, e.recv.maxAdvertised);
        e.creditPending = false;
        frames.push({ kind: 'max-stream-data', id: e.id });
      }
    }
    return at;
  }

  // ---- fate of sent frames ----

  /** A frame we sent was acknowledged. */
  onFrameAcked(frame: SentFrame): void {
    if (frame.kind === 'max-data' || frame.kind === 'ping' || frame.kind === 'close') return;
    const e = this.map.get(frame.id);
    if (e === undefined) return;
    if (frame.kind === 'stream') {
      if (e.send.onAck(frame.offset, frame.length, frame.fin) && e.writeWanted && e.send.space > 0) {
        e.writeWanted = false;
        this.events.push({ type: 'writable', id: e.id });
      }
    } else if (frame.kind === 'reset') {
      e.send.resetAcked = true;
    }
    this.maybeRemove(e);
  }

  /** A frame we sent was declared lost: schedule what still matters. */
  onFrameLost(frame: SentFrame): void {
    if (frame.kind === 'max-data') {
      this.flow.updatePending = true;
      return;
    }
    if (frame.kind === 'ping' || frame.kind === 'close') return;
    const e = this.map.get(frame.id);
    if (e === undefined) return;
    if (frame.kind === 'stream') {
      e.send.onLost(frame.offset, frame.length, frame.fin);
      this.enqueue(e);
    } else if (frame.kind === 'reset') {
      e.send.onResetLost();
      this.control.add(e);
    } else if (frame.kind === 'stop') {
      if (e.recv.finalSize === null) {
        e.stopPending = true;
        this.control.add(e);
      }
    } else if (e.recv.finalSize === null) {
      e.creditPending = true;
      this.control.add(e);
    }
  }

  // ---- received frames ----

  /** STREAM frame. Returns false on a violation (see {@link takeViolation}). */
  onStream(id: number, offset: number, data: Uint8Array, fin: boolean): boolean {
    const e = this.lookup(id);
    if (e === null) return this.violation === null;
    const before = e.recv.readOffset;
    if (!this.account(e, before, e.recv.onData(offset, data, fin))) return false;
    if (!e.aborted && (e.recv.hasData || e.recv.complete) && !e.readableQueued) {
      e.readableQueued = true;
      this.events.push({ type: 'readable', id });
    }
    this.maybeRemove(e);
    return true;
  }

  /** RESET_STREAM frame: the peer abandoned its sending side. */
  onResetStream(id: number, code: number, finalSize: number): boolean {
    const e = this.lookup(id);
    if (e === null) return this.violation === null;
    if (e.recv.resetCode !== null) return true;
    const before = e.recv.readOffset;
    if (!this.account(e, before, e.recv.onReset(code, finalSize))) return false;
    if (!e.aborted && !e.recv.endDelivered) this.events.push({ type: 'reset', id, code });
    this.maybeRemove(e);
    return true;
  }

  /** STOP_SENDING frame: the peer no longer reads; reset our side. */
  onStopSending(id: number, code: number): boolean {
    const e = this.lookup(id);
    if (e === null) return this.violation === null;
    if (e.send.reset(code)) {
      this.control.add(e);
      if (!e.aborted) this.events.push({ type: 'stop', id, code });
    }
    return true;
  }

  /** MAX_DATA frame. */
  onMaxData(max: number): void {
    if (!this.flow.raise(max)) return;
    for (const e of this.map.values()) this.enqueue(e);
  }

  /** MAX_STREAM_DATA frame. */
  onMaxStreamData(id: number, max: number): boolean {
    const e = this.lookup(id);
    if (e === null) return this.violation === null;
    if (max > e.send.maxData) {
      e.send.maxData = max;
      this.enqueue(e);
    }
    return true;
  }

  /** The connection closed: report it once and drop all state. */
  onClosed(code: number, reason: string, remote: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.map.clear();
    this.sendQueue.length = 0;
    this.control.clear();
    this.events.push({ type: 'closed', code, reason, remote });
  }

  // ---- internals ----

  private create(id: number, local: boolean): StreamEntry {
    const e: StreamEntry = {
      id,
      local,
      send: new SendStream(INITIAL_STREAM_CREDIT, this.config.sendBufferSize),
      recv: new RecvStream(Math.max(INITIAL_STREAM_CREDIT, this.config.streamWindow), this.runBudget),
      queued: false,
      stopPending: false,
      stopCode: 0,
      creditPending: this.config.streamWindow > INITIAL_STREAM_CREDIT,
      readableQueued: false,
      writeWanted: false,
      aborted: false,
    };
    this.map.set(id, e);
    if (local) this.localOpen++;
    else this.peerOpen++;
    if (e.creditPending) this.control.add(e);
    return e;
  }

  /** Finds a stream for an incoming frame, opening peer streams implicitly; null = ignore (or violation set). */
  private lookup(id: number): StreamEntry | null {
    const found = this.map.get(id);
    if (found !== undefined) return found;
    if (this.closed) return null;
    if ((id & 1) === (this.nextLocal & 1)) {
      if (id >= this.nextLocal) this.violation = { code: 1, reason: 'frame for a stream never opened' };
      return null;
    }
    if (id < this.nextPeer) return null; // closed long ago: a late retransmission
    const count = (id - this.nextPeer) / 2 + 1;
    if (this.peerOpen + count > 2 * this.config.maxStreams) {
      this.violation = { code: 4, reason: 'stream limit exceeded' };
      return null;
    }
    let entry: StreamEntry | null = null;
    for (let sid = this.nextPeer; sid <= id; sid += 2) {
      entry = this.create(sid, false);
      if (this.peerOpen > this.config.maxStreams) this.abort(sid, StreamCode.REFUSED);
      else this.events.push({ type: 'stream', id: sid });
    }
    this.nextPeer = id + 2;
    return entry;
  }

  /** Connection-level accounting after a receive-side change; false on a violation. */
  private account(e: StreamEntry, readBefore: number, result: RecvResult): boolean {
    if (typeof result === 'string') {
      // Too many gaps is no flow-control excess (every byte was in the window): code 1, protocol violation.
      this.violation = { code: result === TOO_MANY_GAPS ? 1 : 2, reason: result };
      return false;
    }
    if (!this.flow.received(result)) {
      this.violation = { code: 2, reason: 'connection flow control exceeded' };
      return false;
    }
    this.flow.consumed(e.recv.readOffset - readBefore);
    return true;
  }

  /** The head of the send queue leaves it (its quantum is spent, or it has nothing to send). */
  private rotate(): void {
    this.sendQueue.shift()!.queued = false;
    this.headSent = 0;
  }

  private enqueue(e: StreamEntry): void {
    if (!e.queued && e.send.wantsToSend(this.flow.txCredit)) {
      e.queued = true;
      this.sendQueue.push(e);
    }
  }

  private maybeRemove(e: StreamEntry): void {
    const sendDone = e.send.done;
    const recvDone = e.recv.endDelivered || (e.recv.finalSize !== null && (e.recv.resetCode !== null || e.recv.discarding));
    if (!sendDone || !recvDone || e.stopPending || e.send.resetPending || this.control.has(e)) return;
    this.map.delete(e.id);
    if (e.local) this.localOpen--;
    else this.peerOpen--;
  }
}
