/**
 * The IO-bound face of one tunnel connection: drives a sans-IO {@link Connection}
 * with datagrams from the driver, sends what it produces, keeps one timer on the
 * injected Clock for its next deadline, and turns its events into Duplex streams.
 */

import { EventEmitter } from 'eventemitter3';
import { MccError } from '../errors.js';
import { sameAddress, type Address } from '../util/address.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { CloseCode, Connection, type ConnectionEvent } from './connection.js';
import { TunnelStream, type StreamHost } from './stream.js';

/**
 * Most datagrams sent in one flush before yielding to the event loop, so that
 * acknowledgements (and the other end, when it shares the thread) get a turn.
 */
const BURST = 64;

/**
 * Writes up to this size flush at the end of the current job (latency: echo, RPC);
 * bigger ones once per loop turn, where acks that arrived in the same poll phase are
 * processed first and the sender fills whole packets.
 */
const SMALL_WRITE = 1024;

/** Queues write flushes as promise reactions (see {@link TunnelConnection.scheduleWriteFlush}). */
const RESOLVED = Promise.resolve();

/** How much later than a new deadline an armed timer may fire before it is re-armed (one JS timer tick). */
const TIMER_SLACK_MS = 1;

/** Events of a {@link TunnelConnection}. */
export interface TunnelConnectionEvents {
  /** The peer opened a stream. */
  stream: [stream: TunnelStream];
  /** The connection closed; `error` is undefined for an orderly close by either side. */
  close: [error: MccError | undefined];
}

/** Sends a datagram (the driver's transport). */
export type DatagramSender = (to: Address, data: Uint8Array) => void;

/** A live tunnel connection to one peer, carrying many streams. */
export class TunnelConnection extends EventEmitter<TunnelConnectionEvents> implements StreamHost {
  /** Where we send: the peer's newest packet's source, or a path the owner set. */
  private current: Address;
  /** The last address the peer proved (or the owner vouched for): where a failed validation returns. */
  private validatedAddress: Address;
  /** The close error once closed (undefined while open or after an orderly close). */
  closeError: MccError | undefined;
  private readonly streams = new Map<number, TunnelStream>();
  private timer: TimerHandle | null = null;
  private timerAt = Infinity;
  /** The pending flush: one per event-loop turn at most, however many events asked for it. */
  private flushImmediate: ReturnType<typeof setImmediate> | null = null;
  private readonly runFlush = (): void => {
    this.flushImmediate = null;
    // Events of the datagrams this loop turn delivered first: the application's reads and
    // the replies it writes from its 'data' handlers then leave in this very flush.
    if (this.eventsPending) this.processEvents();
    this.flush();
  };
  /**
   * Datagrams arrived whose events (readable, new stream, reset, close) wait for the flush
   * (see {@link receive}): libuv hands over up to 32 datagrams per poll phase, one
   * JavaScript call each.
   */
  private eventsPending = false;
  /** A write-triggered flush queued as a microtask (see {@link scheduleWriteFlush}). */
  private flushMicrotask = false;
  private readonly runWriteFlush = (): void => {
    this.flushMicrotask = false;
    this.flush();
  };
  private finished = false;

  /** @internal Built by TunnelDriver. */
  constructor(
    /** The protocol state machine (exposed for stats and tests). */
    readonly core: Connection,
    address: Address,
    private readonly clock: Clock,
    private readonly send: DatagramSender,
    private readonly onFinished: (connection: TunnelConnection) => void,
  ) {
    super();
    this.current = { ...address };
    this.validatedAddress = this.current;
    this.scheduleFlush(); // initial window updates, and arms the idle/keep-alive timer
  }

  /**
   * Where the peer's datagrams go. It follows the source of the peer's newest authenticated
   * packet (NAT rebinding); a new source is challenged first and gets at most 3x what came
   * from it until the peer answers from there (RFC 9000 §9). Setting it (e.g. to a punched
   * path the owner proved by other means) trusts the new address at once.
   */
  get address(): Address {
    return this.current;
  }

  set address(address: Address) {
    this.current = { host: address.host, port: address.port };
    this.validatedAddress = this.current;
    this.core.trustPath();
  }

  /** The peer's node ID (Ed25519 public key). */
  get peer(): Uint8Array {
    return this.core.peer;
  }

  /** True once closed (no further streams). */
  get closed(): boolean {
    return this.core.state !== 'open';
  }

  /** Opens a new stream to the peer. Throws ERR_STOPPED when closed, ERR_LIMIT beyond `maxStreams`. */
  openStream(): TunnelStream {
    const id = this.core.streams.open();
    const stream = new TunnelStream(this, id);
    this.streams.set(id, stream);
    this.scheduleFlush();
    return stream;
  }

  /** Closes the connection (CLOSE frame to the peer); open streams are destroyed with ERR_STREAM. */
  close(code: number = CloseCode.NO_ERROR, reason = ''): void {
    if (this.core.state !== 'open') return;
    this.core.close(code, reason);
    this.flush();
  }

  /** @internal A datagram for this connection arrived. */
  receive(datagram: Uint8Array, from: Address): void {
    if (this.finished) return;
    // The peer moved (NAT rebinding, roaming) only if its newest packet says so: a duplicate
    // or an older packet replayed from another address must not redirect our traffic.
    if (this.core.handleDatagram(this.clock.now(), datagram) && this.core.lastWasLargest && !sameAddress(from, this.current)) {
      this.current = { host: from.host, port: from.port };
      if (sameAddress(from, this.validatedAddress)) this.core.trustPath();
      else this.core.startPathValidation(this.clock.now(), datagram.length);
    }
    if (this.flushImmediate === null) {
      // The first datagram of this loop turn: its events go out at once (a lone request
      // reaches the application with no extra hop, and the reply it writes from its 'data'
      // handler queues a flush at the end of this job, which sends, acknowledges and
      // re-arms everything a loop-turn flush would).
      this.processEvents();
      if (!this.flushMicrotask) this.scheduleFlush();
    } else {
      // More datagrams in the same turn: their events wait for that flush, so a stream
      // pulls and pushes once per turn rather than once per packet.
      this.eventsPending = true;
    }
  }

  // ---- StreamHost ----

  /** Part of the StreamHost seam: called by this connection's TunnelStreams. */
  streamWrite(id: number, data: Uint8Array): number {
    const n = this.core.streams.write(id, data);
    if (n > 0 && data.length <= SMALL_WRITE) this.scheduleWriteFlush();
    else if (n > 0) this.scheduleFlush();
    return n;
  }

  /** Part of the StreamHost seam: called by this connection's TunnelStreams. */
  streamFinish(id: number): void {
    this.core.streams.finish(id);
    this.scheduleFlush();
  }

  /** Part of the StreamHost seam: called by this connection's TunnelStreams. */
  streamRead(id: number): Uint8Array | null {
    const chunk = this.core.streams.read(id);
    if (chunk !== null) this.scheduleFlush(); // may carry a credit update
    return chunk;
  }

  /** Part of the StreamHost seam: called by this connection's TunnelStreams. */
  streamTakeEnd(id: number): boolean {
    return this.core.streams.takeEnd(id);
  }

  /** Part of the StreamHost seam: called by this connection's TunnelStreams. */
  streamAbort(id: number, code: number): void {
    this.core.streams.abort(id, code);
    this.scheduleFlush();
  }

  /** Part of the StreamHost seam: called by this connection's TunnelStreams. */
  streamReleased(id: number): void {
    this.streams.delete(id);
  }

  // ---- driving ----

  /**
   * Flushes in the check phase of this event-loop turn rather than at once: every
   * datagram libuv read in this poll phase (up to 32 per socket) and every write the
   * application made is processed first, so one ACK answers a whole batch and small
   * writes coalesce into full packets. This is IO scheduling, not protocol time, so it
   * uses setImmediate rather than the injected clock (a zero-delay clock timer would
   * wait a whole millisecond).
   */
  private scheduleFlush(): void {
    if (this.flushImmediate !== null || this.finished) return;
    this.flushImmediate = setImmediate(this.runFlush);
  }

  /**
   * Small application writes flush as soon as the current JavaScript job ends (a microtask),
   * not a loop turn later: writes made in one synchronous run still coalesce into full
   * packets, and a reply written from a 'data' handler leaves at once with the ACK of
   * the packet that carried the request piggybacked (no extra hop on the echo path).
   * Window and pacing still decide what may go out; the rest waits for acks or the timer.
   */
  private scheduleWriteFlush(): void {
    if (this.flushMicrotask || this.finished) return;
    this.flushMicrotask = true;
    // A resolved promise's reaction rather than queueMicrotask, which wraps every callback
    // in a new AsyncResource and a bound function; the ordering is the same microtask queue.
    void RESOLVED.then(this.runWriteFlush);
  }

  /** Sends everything the connection allows now, then re-arms the timer. */
  private flush(minDelay = 0): void {
    if (this.finished) return;
    const now = this.clock.now();
    let sent = 0;
    for (; sent < BURST; sent++) {
      const datagram = this.core.pollTransmit(now);
      if (datagram === null) break;
      this.send(this.address, datagram);
    }
    this.processEvents();
    if (this.core.state === 'closed') {
      this.finish();
      return;
    }
    if (sent === BURST) this.scheduleFlush(); // more to send: continue on the next turn
    this.arm(this.core.nextTimeout(), minDelay);
  }

  private arm(deadline: number, minDelay: number): void {
    if (deadline === Infinity) {
      if (this.timer !== null) this.clock.clearTimeout(this.timer);
      this.timer = null;
      this.timerAt = Infinity;
      return;
    }
    // Keep an armed timer that fires earlier (it re-evaluates the deadline when it fires),
    // or at most a timer tick later: pacing moves sub-millisecond deadlines earlier all the
    // time, and JS timers fire on a millisecond grid anyway, so re-arming would only churn.
    if (this.timer !== null && this.timerAt <= deadline + TIMER_SLACK_MS) return;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timerAt = deadline;
    this.timer = this.clock.setTimeout(() => this.onTimer(), Math.max(minDelay, deadline - this.clock.now()));
  }

  private onTimer(): void {
    this.timer = null;
    this.timerAt = Infinity;
    if (this.finished) return;
    const now = this.clock.now();
    if (now >= this.core.nextTimeout()) this.core.handleTimeout(now);
    this.processEvents();
    // Should a deadline stay due after handling (a bug), back off 1 ms rather than spin:
    // under a virtual clock a zero-delay timer loop would never let time advance.
    this.flush(1);
  }

  private processEvents(): void {
    this.eventsPending = false;
    const outcome = this.core.takePathOutcome();
    if (outcome === 'validated') this.validatedAddress = this.current;
    else if (outcome === 'failed') this.current = this.validatedAddress; // the core trusts it again already
    let event: ConnectionEvent | undefined;
    while ((event = this.core.pollEvent()) !== undefined) {
      switch (event.type) {
        case 'stream': {
          const stream = new TunnelStream(this, event.id);
          this.streams.set(event.id, stream);
          this.emit('stream', stream);
          break;
        }
        case 'readable':
          this.streams.get(event.id)?.onReadable();
          break;
        case 'writable':
          this.streams.get(event.id)?.onWritable();
          break;
        case 'reset':
          this.streams.get(event.id)?.destroy(new MccError('ERR_STREAM', `stream reset by peer (code ${event.code})`, { details: { code: event.code } }));
          break;
        case 'stop':
          this.streams.get(event.id)?.destroy(new MccError('ERR_STREAM', `peer stopped reading (code ${event.code})`, { details: { code: event.code } }));
          break;
        case 'closed':
          this.onClosed(event.code, event.reason, event.remote);
          break;
      }
    }
  }

  private onClosed(code: number, reason: string, remote: boolean): void {
    let error: MccError | undefined;
    if (code === CloseCode.IDLE_TIMEOUT) error = new MccError('ERR_TIMEOUT', 'tunnel idle timeout');
    else if (code !== CloseCode.NO_ERROR)
      error = new MccError(remote ? 'ERR_PEER' : 'ERR_STREAM', `tunnel closed: ${reason || `code ${code}`}`, { details: { code, remote } });
    this.closeError = error;
    const streamError = error ?? new MccError('ERR_STREAM', remote ? 'tunnel connection closed by peer' : 'tunnel connection closed');
    for (const stream of [...this.streams.values()]) stream.destroy(streamError);
    this.streams.clear();
    if (this.core.state === 'closed') this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    if (this.flushImmediate !== null) clearImmediate(this.flushImmediate);
    this.flushImmediate = null;
    this.onFinished(this);
    this.emit('close', this.closeError);
  }
}
