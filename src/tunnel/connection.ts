/**
 * The sans-IO tunnel connection (quinn-proto style): feed it datagrams and the time,
 * poll it for datagrams to send, the next timer deadline and application events. It
 * never touches a socket or a clock. Streams live in {@link StreamTable}; this file
 * is the packet level: decryption, frame dispatch, acknowledgement, loss recovery,
 * congestion control, pacing, keep-alive, idle timeout, key rotation and close.
 */

import type { CryptoSuite } from '../crypto/types.js';
import { AckState } from './ack-state.js';
import { resolveTunnelConfig, type TunnelConfig } from './config.js';
import { NewReno, type CongestionController } from './congestion.js';
import { FrameType, ackFrameLength, decodeFrames, encodeClose, type FrameSink, writeAck } from './frames.js';
import type { TunnelKeys } from './handshake.js';
import { HEADER_LENGTH, KEY_GENERATION_PACKETS, MAX_DATAGRAM, MAX_PAYLOAD, PacketOpener, PacketSealer } from './packet.js';
import { Pacer } from './pacer.js';
import { PathValidator, type PathOutcome } from './path-validation.js';
import { Recovery, type FrameOutcome, type SentFrame } from './recovery.js';
import { RttEstimator } from '../util/rtt.js';
import { StreamTable, type ConnectionEvent } from './stream-table.js';

import { CloseCode, type ConnectionStats } from './connection-types.js';

export type { ConnectionEvent } from './stream-table.js';
export { CloseCode, type ConnectionStats } from './connection-types.js';

/**
 * Bytes of one send slab. Sent datagrams are views into it, so it must never be
 * rewritten (the transport may still queue them); a new one replaces it when full.
 */
const SLAB_BYTES = 64 * 1024;

/** The one PING record: frames are read, never changed, by whoever receives them back. */
const PING_FRAME: SentFrame = { kind: 'ping' };

/** Protocol state of one tunnel connection between two nodes. */
export class Connection implements FrameSink, FrameOutcome {
  /** Peer's node ID. */
  readonly peer: Uint8Array;
  /** `open` until closed; `closing` while the CLOSE frame waits to be sent. */
  state: 'open' | 'closing' | 'closed' = 'open';
  /** Counters. */
  readonly stats: ConnectionStats = {
    packetsSent: 0,
    packetsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    framesLost: 0,
    duplicates: 0,
    dropped: 0,
    probes: 0,
    persistentCongestion: 0,
  };
  /** Stream state and application API. */
  readonly streams: StreamTable;
  /** RTT estimator (read-only for callers). */
  readonly rtt: RttEstimator;
  /** Congestion controller (read-only for callers). */
  readonly cc: CongestionController;
  /** Validation of the peer's current address (see {@link startPathValidation}). */
  private readonly path: PathValidator;

  private readonly config: TunnelConfig;
  private readonly sealer: PacketSealer;
  private readonly opener: PacketOpener;
  private readonly acks: AckState;
  private readonly recovery: Recovery;
  private readonly pacer: Pacer;
  /** Datagrams are built in this slab, one after the other; a full slab is replaced, never reused. */
  private slab: Uint8Array = new Uint8Array(0);
  private slabUsed = 0;
  private nextPn = 0;
  private lastReceived: number;
  /** Highest packet number received so far (-1 before any). */
  private largestReceived = -1;
  /** The last datagram authenticated and was the newest yet: only such a packet may move the peer's address (RFC 9000 §9.3). */
  lastWasLargest = false;
  private lastEliciting: number;
  private generationStart: number;
  private generationBytes = 0;
  private probes = 0;
  private pingPending = false;
  private pacedUntil = 0;
  private closeFrame: Uint8Array | null = null;
  private now = 0;
  private packetEliciting = false;
  private violation: { code: number; reason: string } | null = null;
  /**
   * The responder sends nothing until a packet from the initiator authenticated: the
   * address it learned from the (possibly replayed) init message is unverified, and
   * must not become a target for traffic (no amplification).
   */
  private validated: boolean;

  constructor(suite: CryptoSuite, keys: TunnelKeys, now: number, config: Partial<TunnelConfig> = {}) {
    this.config = resolveTunnelConfig(config);
    this.peer = keys.peer;
    this.sealer = new PacketSealer(suite, keys.sendKey.slice(), keys.remoteCid);
    this.opener = new PacketOpener(suite, keys.receiveKey.slice());
    this.acks = new AckState(this.config.maxAckDelayMs, this.config.ackEveryPackets);
    this.rtt = new RttEstimator(this.config.initialRttMs);
    this.cc = new NewReno({ maxDatagram: MAX_DATAGRAM, maxWindow: this.config.maxCongestionWindow });
    this.recovery = new Recovery(this.rtt, this.cc, this.config.maxAckDelayMs, () => this.stats.persistentCongestion++);
    this.pacer = new Pacer(MAX_DATAGRAM, now);
    this.path = new PathValidator((length) => suite.randomBytes(length));
    this.streams = new StreamTable(keys.initiator, this.config);
    this.lastReceived = now;
    this.lastEliciting = now;
    this.generationStart = now;
    this.validated = keys.initiator;
    this.pingPending = keys.initiator; // first packet validates us to the responder at once
  }

  /** Next application event, or undefined. */
  pollEvent(): ConnectionEvent | undefined {
    return this.streams.pollEvent();
  }

  /** Processes one datagram addressed to this connection. Returns true when it authenticated. */
  handleDatagram(now: number, datagram: Uint8Array): boolean {
    this.lastWasLargest = false;
    if (this.state !== 'open') return false;
    const payload = this.opener.open(datagram);
    if (payload === null) {
      this.stats.dropped++;
      return false;
    }
    this.stats.packetsReceived++;
    this.stats.bytesReceived += datagram.length;
    const pn = this.opener.pn;
    if (!this.acks.onPacket(pn, now)) {
      this.stats.duplicates++;
      return true;
    }
    if (pn > this.largestReceived) {
      this.largestReceived = pn;
      this.lastWasLargest = true;
    }
    this.path.onReceived(datagram.length);
    this.lastReceived = now;
    this.validated = true;
    this.now = now;
    this.packetEliciting = false;
    if (!decodeFrames(payload, this)) this.violation ??= { code: CloseCode.PROTOCOL_VIOLATION, reason: 'malformed frame' };
    if (this.packetEliciting) this.acks.onAckEliciting(now);
    const violation = this.streams.takeViolation() ?? this.violation;
    if (violation !== null) {
      this.violation = null;
      this.close(violation.code, violation.reason);
    }
    return true;
  }

  /** The next datagram to send now, or null when nothing may go out yet. */
  pollTransmit(now: number): Uint8Array | null {
    if (this.state === 'closed') return null;
    if (this.state === 'closing') return this.validated ? this.transmitClose() : this.dropClose();
    if (!this.validated) return null;
    this.maybeRotateKeys(now);
    // An unproven peer address gets at most 3x what came from it: small control packets
    // (ACK, PATH_*) while anything is left, full packets only while a whole one fits.
    const budget = this.path.budget();
    if (budget <= 0) return null;
    const probing = this.probes > 0;
    // Probes and keep-alive PINGs are tiny and must go out even with a full window.
    let canSend = budget >= MAX_DATAGRAM && (probing || this.pingPending || this.cc.bytesInFlight + MAX_DATAGRAM <= this.cc.window);
    const work = this.pingPending || probing || this.streams.hasWork();
    if (canSend && work && !probing) {
      this.pacer.update(this.cc.window, this.rtt.smoothed);
      const wait = this.pacer.delay(now, MAX_DATAGRAM);
      if (wait > 0) {
        this.pacedUntil = now + wait;
        canSend = false;
      }
    }
    const eliciting = canSend && work;
    const pathFrames = this.path.hasFrames;
    if (!eliciting && !pathFrames && !this.acks.due(now)) return null;

    // Frames go straight into the datagram's place in the send slab and are sealed there:
    // no scratch copy, no per-packet allocation.
    if (this.slab.length - this.slabUsed < MAX_DATAGRAM) {
      this.slab = new Uint8Array(SLAB_BYTES);
      this.slabUsed = 0;
    }
    const buf = this.slab;
    const base = this.slabUsed;
    const start = base + HEADER_LENGTH;
    const end = start + MAX_PAYLOAD;
    let at = start;
    let ackLargest = -1;
    if (this.acks.pending) {
      const { ranges, delayMicros } = this.acks.take(now);
      if (ackFrameLength(ranges, delayMicros) <= MAX_PAYLOAD / 2) {
        at = writeAck(buf, at, ranges, delayMicros);
        ackLargest = ranges[0]!;
      }
    }
    // PATH_* frames are not in recovery: the validator repeats its challenge on a timer.
    if (pathFrames) at = this.path.writeFrames(buf, at, now, this.rtt.pto(this.config.maxAckDelayMs));
    const packet = this.recovery.newPacket();
    const frames = packet.frames;
    if (eliciting) {
      at = this.streams.writeFrames(buf, at, end, frames);
      if (this.pingPending || (probing && frames.length === 0)) {
        buf[at++] = FrameType.PING;
        frames.push(PING_FRAME);
      }
      this.pingPending = false;
      if (probing) this.probes--;
    }
    if (at === start) {
      this.recovery.release(packet);
      return null;
    }
    const pn = this.nextPn++;
    if (ackLargest >= 0) this.acks.onAckSent(pn, ackLargest);
    const length = this.sealer.sealInPlace(pn, buf, base, at - start);
    const datagram = buf.subarray(base, base + length);
    this.slabUsed = base + length;
    this.stats.packetsSent++;
    this.stats.bytesSent += datagram.length;
    this.generationBytes += datagram.length;
    this.path.onSent(datagram.length);
    if (frames.length > 0) {
      // Sent with less than half the window in flight: the sender was limited by the
      // application or by flow control, not by the window, so the ack says nothing about
      // capacity and must not grow the window (else it inflates without bound and the
      // first time it is used, it floods the path).
      packet.appLimited = this.cc.bytesInFlight + datagram.length < this.cc.window / 2;
      packet.pn = pn;
      packet.timeSent = now;
      packet.size = datagram.length;
      this.recovery.onSent(packet);
      this.pacer.onSent(now, datagram.length);
      this.lastEliciting = now;
    } else {
      this.recovery.release(packet);
    }
    return datagram;
  }

  /** Earliest time {@link handleTimeout} must run (Infinity when nothing is scheduled). */
  nextTimeout(): number {
    if (this.state === 'closed') return Infinity;
    let t = Math.min(
      this.recovery.deadline(),
      this.acks.deadline(),
      this.lastReceived + this.config.idleTimeoutMs,
      this.lastEliciting + this.config.keepAliveMs,
      this.path.deadline(),
    );
    if (this.pacedUntil > 0 && this.streams.hasWork()) t = Math.min(t, this.pacedUntil);
    return t;
  }

  /** Runs timers that are due: idle timeout, loss detection, probes, keep-alive. */
  handleTimeout(now: number): void {
    if (this.state !== 'open') return;
    this.now = now;
    if (now >= this.lastReceived + this.config.idleTimeoutMs) {
      this.terminate(CloseCode.IDLE_TIMEOUT, 'idle timeout', false);
      return;
    }
    if (now >= this.recovery.deadline() && this.recovery.onTimeout(now, this)) {
      this.probes = 2;
      this.stats.probes++;
    }
    if (now >= this.lastEliciting + this.config.keepAliveMs) {
      this.pingPending = true;
      this.lastEliciting = now; // the PING goes out with the next poll; do not fire again meanwhile
    }
    if (now >= this.pacedUntil) this.pacedUntil = 0;
    if (now >= this.path.deadline()) this.path.onTimeout(now);
  }

  /** The peer's newest packet (`bytes` long) came from an unproven address: challenge it (see path-validation.ts). */
  startPathValidation(now: number, bytes: number): void {
    this.path.start(now, bytes, 3 * this.rtt.pto(this.config.maxAckDelayMs));
  }

  /** The peer's current address needs no proof (validated before, or proven by other means). */
  trustPath(): void {
    this.path.trust();
  }

  /** How the last path validation ended (`validated`, `failed`), reported once; null otherwise. */
  takePathOutcome(): PathOutcome | null {
    return this.path.takeOutcome();
  }

  /** Closes the connection: a CLOSE frame goes out with the next poll, then the state is `closed`. */
  close(code: number = CloseCode.NO_ERROR, reason = ''): void {
    if (this.state !== 'open') return;
    this.closeFrame = encodeClose(code, reason);
    this.state = 'closing';
    this.streams.onClosed(code, reason, false);
    this.recovery.clear();
  }

  private transmitClose(): Uint8Array | null {
    const frame = this.closeFrame!;
    this.closeFrame = null;
    this.state = 'closed';
    return this.sealer.seal(this.nextPn++, frame);
  }

  private dropClose(): null {
    this.closeFrame = null;
    this.state = 'closed';
    return null;
  }

  /** Closes without sending anything (idle timeout, or the peer closed). */
  private terminate(code: number, reason: string, remote: boolean): void {
    this.state = 'closed';
    this.streams.onClosed(code, reason, remote);
    this.recovery.clear();
  }

  /** Key rotation by time or volume: skip to the next generation's first packet number. */
  private maybeRotateKeys(now: number): void {
    if (now - this.generationStart < this.config.rekeyAfterMs && this.generationBytes < this.config.rekeyAfterBytes) {
      if (this.nextPn % KEY_GENERATION_PACKETS !== 0) return;
    } else {
      this.nextPn = (Math.floor(this.nextPn / KEY_GENERATION_PACKETS) + 1) * KEY_GENERATION_PACKETS;
    }
    this.generationStart = now;
    this.generationBytes = 0;
  }

  // ---- FrameSink: frames of the packet being processed ----

  /** Part of the FrameSink / FrameOutcome seam: called while frames are decoded and acknowledged. */
  onPing(): void {
    this.packetEliciting = true;
  }

  /** Part of the FrameSink / FrameOutcome seam: called while frames are decoded and acknowledged. */
  onPathChallenge(data: Uint8Array): void {
    this.packetEliciting = true;
    this.path.onChallenge(data);
  }

  /** Part of the FrameSink / FrameOutcome seam: called while frames are decoded and acknowledged. */
  onPathResponse(data: Uint8Array): void {
    this.packetEliciting = true;
    this.path.onResponse(data);
  }

  /** Part of the FrameSink / FrameOutcome seam: called while frames are decoded and acknowledged. */
  onAck(ranges: number[], ackDelayMicros: number): boolean {
    if (!this.recovery.onAck(ranges, ackDelayMicros / 1000, this.nextPn, this.now, this)) return false;
    this.acks.onPeerAck(ranges);
    return true;
  }

  /** Part of the FrameSink / FrameOutcome seam: called while frames are decoded and acknowledged. */
  onStream(id: number, offset: number, data: Uint8Array, fin: boolean): boolean {
    this.packetEliciting = true;
    return this.streams.onStream(id, offset, data, fin);
  }

  /** Part of the FrameSink / FrameOutcome seam: called while frames are decoded and acknowledged. */
  onResetStream(id: number, code: number, finalSize: number): boolean {
    this.packetEliciting = true;
    return this.streams.onResetStream(id, code, finalSize);
  }

  /** Part of the FrameSink / FrameOutcome seam: called while frames are decoded and acknowledged. */
  onStopSending(id: number, code: number): boolean {
    this.packetEliciting = true;
    return this.streams.onStopSending(id, code);
  }

  /** Part of the FrameSink / FrameOutcome seam: called while frames are decoded and acknowledged. */
  onMaxData(max: number): void {
    this.packetEliciting = true;
    this.streams.onMaxData(max);
  }

  /** Part of the FrameSink / FrameOutcome seam: called while frames are decoded and acknowledged. */
  onMaxStreamData(id: number, max: number): boolean {
    this.packetEliciting = true;
    return this.streams.onMaxStreamData(id, max);
  }

  /** Part of the FrameSink / FrameOutcome seam: called while frames are decoded and acknowledged. */
  onClose(code: number, reason: string): void {
    this.terminate(code, reason, true);
  }

  // ---- FrameOutcome: fate of frames we sent ----

  /** Part of the FrameSink / FrameOutcome seam: called while frames are decoded and acknowledged. */
  onFrameAcked(frame: SentFrame): void {
    this.streams.onFrameAcked(frame);
  }

  /** Part of the FrameSink / FrameOutcome seam: called while frames are decoded and acknowledged. */
  onFrameLost(frame: SentFrame): void {
    this.stats.framesLost++;
    if (frame.kind === 'ping') return;
    this.streams.onFrameLost(frame);
  }
}
