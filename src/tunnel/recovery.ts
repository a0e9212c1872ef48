/**
 * Loss recovery as in RFC 9002 §6: tracks sent packets, processes ACK frames, samples
 * the RTT, declares packets lost by packet threshold (3) or time threshold (9/8 RTT),
 * and arms the probe timeout with exponential backoff. Frames, not packets, are
 * retransmitted: the owner gets every frame of an acknowledged or lost packet back.
 */

import type { CongestionController } from './congestion.js';
import type { RttEstimator } from '../util/rtt.js';

/** What a sent packet carried, so it can be resent or released on loss or ack. */
export type SentFrame =
  | { kind: 'stream'; id: number; offset: number; length: number; fin: boolean }
  | { kind: 'reset'; id: number }
  | { kind: 'stop'; id: number }
  | { kind: 'max-stream-data'; id: number }
  | { kind: 'max-data' }
  | { kind: 'ping' }
  | { kind: 'close' };

/** A packet in flight. */
export interface SentPacket {
  pn: number;
  timeSent: number;
  size: number;
  /** True when the sender was not using its window (acks then do not grow it). */
  appLimited: boolean;
  frames: SentFrame[];
}

/** Receives the frames of acknowledged and lost packets. */
export interface FrameOutcome {
  onFrameAcked(frame: SentFrame): void;
  onFrameLost(frame: SentFrame): void;
}

/** Packet records kept for reuse (about a window's worth of packets in flight). */
const MAX_SPARE_PACKETS = 1024;

/** Packets later than a lost one by this many are enough to declare it lost. */
export const PACKET_THRESHOLD = 3;

/**
 * Lost packets whose send times span this many probe timeouts, with nothing acknowledged
 * in between, mean persistent congestion (RFC 9002 §7.6): the path was black for longer
 * than any queue, so the window restarts from the minimum instead of half.
 */
export const PERSISTENT_CONGESTION_THRESHOLD = 3;

/** Sent-packet bookkeeping and loss detection of one connection. */
export class Recovery {
  /**
   * Ack-eliciting packets in flight, ascending packet number, from index `head` on;
   * an acknowledged one leaves a null hole and a lost one an undefined hole until the
   * front moves past them (persistent congestion must tell the two apart). A plain
   * array: appends and front-to-back walks are all the hot path does (no hashing, no
   * iterator entries).
   */
  private sent: (SentPacket | null | undefined)[] = [];
  private head = 0;
  private live = 0;
  /** Largest packet number the peer acknowledged. */
  largestAcked = -1;
  private lossTime = Infinity;
  /** Consecutive probe timeouts without an ack. */
  ptoCount = 0;
  private lastAckElicitingSent = -Infinity;
  /** When the first RTT sample was taken: persistent congestion needs one from before the loss. */
  private firstRttSampleAt = Infinity;
  /** Times persistent congestion was declared (for stats and tests). */
  persistentCongestionEvents = 0;
  /** Released packet records (and their frame arrays), reused: one fewer object pair per packet. */
  private readonly spare: SentPacket[] = [];

  constructor(
    private readonly rtt: RttEstimator,
    private readonly cc: CongestionController,
    private readonly peerMaxAckDelayMs: number,
    /** Called when persistent congestion is declared (after the controller collapsed its window). */
    private readonly onPersistentCongestion: () => void = () => {},
  ) {}

  /** Packets in flight. */
  get inFlight(): number {
    return this.live;
  }

  /** A blank packet record to fill and pass to {@link onSent} (or back to {@link release}). */
  newPacket(): SentPacket {
    return this.spare.pop() ?? { pn: 0, timeSent: 0, size: 0, appLimited: false, frames: [] };
  }

  /** Returns a record that is no longer referenced (its frames were handed out already). */
  release(packet: SentPacket): void {
    packet.frames.length = 0;
    if (this.spare.length < MAX_SPARE_PACKETS) this.spare.push(packet);
  }

  /** Records an ack-eliciting packet. */
  onSent(packet: SentPacket): void {
    this.sent.push(packet);
    this.live++;
    this.lastAckElicitingSent = packet.timeSent;
    this.cc.onPacketSent(packet.size);
  }

  /**
   * Processes an ACK frame's ranges ([high, low] pairs, highest first). Returns false
   * when it acknowledges a packet number never sent (a protocol violation).
   */
  onAck(ranges: number[], ackDelayMs: number, nextPn: number, now: number, outcome: FrameOutcome): boolean {
    const largest = ranges[0];
    if (largest >= nextPn) return false;
    let newlyAckedLargestTime = -Infinity;
    let r = ranges.length - 2; // walk ranges from the lowest up, as packets ascend
    const sent = this.sent;
    for (let i = this.head; i < sent.length; i++) {
      const packet = sent[i];
      if (packet == null) continue;
      const pn = packet.pn;
      if (pn > largest) break;
      while (r >= 0 && ranges[r] < pn) r -= 2; // range high < pn: move to a higher range
      if (r < 0) break;
      if (pn < ranges[r + 1]) continue; // in a gap
      sent[i] = null;
      this.live--;
      this.cc.onPacketAcked(packet.size, packet.timeSent, packet.appLimited);
      for (const frame of packet.frames) outcome.onFrameAcked(frame);
      if (pn === largest) newlyAckedLargestTime = packet.timeSent;
      this.release(packet);
    }
    this.compact();
    if (largest > this.largestAcked) this.largestAcked = largest;
    if (newlyAckedLargestTime !== -Infinity) {
      const sample = Math.max(now - newlyAckedLargestTime, 0.001);
      if (this.firstRttSampleAt === Infinity) this.firstRttSampleAt = now;
      this.rtt.sample(sample, Math.min(ackDelayMs, this.peerMaxAckDelayMs));
      this.cc.onRttSample?.(sample, largest, nextPn);
      this.ptoCount = 0;
    }
    this.detectLost(now, outcome);
    return true;
  }

  /** Declares lost what the thresholds say is lost, and arms the loss timer for the rest. */
  detectLost(now: number, outcome: FrameOutcome): void {
    this.lossTime = Infinity;
    const lossDelay = this.rtt.lossDelay();
    let lostBytes = 0;
    let largestLostTime = -Infinity;
    // The current run of packets lost now with no acknowledged one between them (RFC 9002 §7.6.2).
    let runStart = Infinity;
    let persistent = false;
    const persistentSpan = this.rtt.pto(this.peerMaxAckDelayMs) * PERSISTENT_CONGESTION_THRESHOLD;
    const sent = this.sent;
    for (let i = this.head; i < sent.length; i++) {
      const packet = sent[i];
      if (packet === null) {
        runStart = Infinity; // acknowledged: the path delivered something in between
        continue;
      }
      if (packet === undefined) continue; // lost earlier: the run goes on
      const pn = packet.pn;
      if (pn > this.largestAcked) break;
      // Same expression as the timer below, so floating-point rounding cannot leave a due timer unresolved.
      if (this.largestAcked - pn >= PACKET_THRESHOLD || packet.timeSent + lossDelay <= now) {
        sent[i] = undefined;
        this.live--;
        lostBytes += packet.size;
        largestLostTime = Math.max(largestLostTime, packet.timeSent);
        // Only a run that began after the first RTT sample counts: before it, the PTO was a guess.
        if (runStart === Infinity) runStart = packet.timeSent > this.firstRttSampleAt ? packet.timeSent : Infinity;
        else if (packet.timeSent - runStart > persistentSpan) persistent = true;
        for (const frame of packet.frames) outcome.onFrameLost(frame);
        this.release(packet);
        continue;
      }
      // Later packets were sent later: none of them is lost yet either.
      this.lossTime = packet.timeSent + lossDelay;
      break;
    }
    this.compact();
    if (lostBytes === 0) return;
    this.cc.onPacketsLost(lostBytes, largestLostTime, now);
    if (persistent) {
      this.persistentCongestionEvents++;
      this.cc.onPersistentCongestion();
      this.onPersistentCongestion();
    }
  }

  /** Moves the front past holes; drops the dead prefix once it is most of the array. */
  private compact(): void {
    const sent = this.sent;
    let head = this.head;
    while (head < sent.length && sent[head] == null) head++;
    if (head === sent.length) {
      sent.length = 0;
      head = 0;
    } else if (head > 1024 && head * 2 > sent.length) {
      sent.splice(0, head);
      head = 0;
    }
    this.head = head;
  }

  /** When the loss or probe timer fires (Infinity when nothing is in flight). */
  deadline(): number {
    if (this.lossTime !== Infinity) return this.lossTime;
    if (this.live === 0) return Infinity;
    return this.lastAckElicitingSent + this.rtt.pto(this.peerMaxAckDelayMs) * 2 ** Math.min(this.ptoCount, 10);
  }

  /** Handles the timer; returns true when probes should be sent. */
  onTimeout(now: number, outcome: FrameOutcome): boolean {
    if (this.lossTime !== Infinity && now >= this.lossTime) {
      this.detectLost(now, outcome);
      return false;
    }
    if (this.live > 0 && now >= this.deadline()) {
      this.ptoCount++;
      return true;
    }
    return false;
  }

  /** Forgets everything in flight (connection closed). */
  clear(): void {
    for (let i = this.head; i < this.sent.length; i++) {
      const packet = this.sent[i];
      if (packet != null) this.cc.discard(packet.size);
    }
    this.sent = [];
    this.head = 0;
    this.live = 0;
    this.lossTime = Infinity;
  }
}
