/**
 * Path validation (RFC 9000 §8.2 and §9), sans-IO. When the peer's packets start to come
 * from a new address, that address is only a claim: an authenticated peer can put any
 * source on its packets, and would then aim our traffic (a download, say) at a victim.
 * So until the peer echoes a random PATH_CHALLENGE from the new address, we send there at
 * most 3x what arrived from it (QUIC's anti-amplification limit), and if no echo comes
 * within 3 PTOs we go back to the last validated address.
 */

import { FrameType } from './frames.js';

/** PATH_CHALLENGE / PATH_RESPONSE payload size. */
export const PATH_DATA_LENGTH = 8;
/** Bytes one PATH_CHALLENGE or PATH_RESPONSE frame takes. */
export const PATH_FRAME_LENGTH = 1 + PATH_DATA_LENGTH;
/** Bytes an unvalidated address may receive per byte it sent us. */
export const AMPLIFICATION_FACTOR = 3;
/** Validation gets at least this long (RFC 9000 §8.2.4 uses 6 x the initial RTT). */
export const MIN_VALIDATION_MS = 600;

/** What became of a validation, once: the caller moves or reverts its address. */
export type PathOutcome = 'validated' | 'failed';

/** The validation state of the peer's current address. */
export class PathValidator {
  /** The outstanding challenge; null while the current address is validated. */
  private challenge: Uint8Array | null = null;
  private challengeDue = false;
  private nextChallengeAt = Infinity;
  private deadlineAt = Infinity;
  private received = 0;
  private sent = 0;
  /** The latest challenge the peer sent us, to echo. */
  private response: Uint8Array | null = null;
  private outcome: PathOutcome | null = null;

  constructor(private readonly randomBytes: (length: number) => Uint8Array) {}

  /** True while the current address waits for its echo. */
  get validating(): boolean {
    return this.challenge !== null;
  }

  /**
   * The peer's newest packet (`bytes` long) came from an address it has not proven:
   * challenge it, and give it up to `timeoutMs` (at least {@link MIN_VALIDATION_MS}).
   */
  start(now: number, bytes: number, timeoutMs: number): void {
    this.challenge = this.randomBytes(PATH_DATA_LENGTH);
    this.challengeDue = true;
    this.received = bytes;
    this.sent = 0;
    this.deadlineAt = now + Math.max(timeoutMs, MIN_VALIDATION_MS);
    this.nextChallengeAt = Infinity;
    this.outcome = null;
  }

  /** The current address needs no proof (validated before, or proven otherwise, e.g. by an authenticated punch). */
  trust(): void {
    this.challenge = null;
    this.challengeDue = false;
    this.nextChallengeAt = Infinity;
    this.deadlineAt = Infinity;
  }

  /** An authenticated, non-duplicate datagram arrived: while validating it adds to the budget. */
  onReceived(bytes: number): void {
    if (this.challenge !== null) this.received += bytes;
  }

  /** A datagram of `bytes` went to the current address. */
  onSent(bytes: number): void {
    if (this.challenge !== null) this.sent += bytes;
  }

  /** Bytes the current address may still be sent (Infinity once validated). */
  budget(): number {
    return this.challenge === null ? Infinity : AMPLIFICATION_FACTOR * this.received - this.sent;
  }

  /** PATH_CHALLENGE from the peer: echo it in the next packet. */
  onChallenge(data: Uint8Array): void {
    this.response = data.slice();
  }

  /** PATH_RESPONSE from the peer: the current address is proven when it echoes our challenge. */
  onResponse(data: Uint8Array): void {
    const challenge = this.challenge;
    if (challenge === null) return;
    for (let i = 0; i < PATH_DATA_LENGTH; i++) if (data[i] !== challenge[i]) return;
    this.trust();
    this.outcome = 'validated';
  }

  /** True when the next packet should carry a PATH_CHALLENGE or PATH_RESPONSE. */
  get hasFrames(): boolean {
    return this.challengeDue || this.response !== null;
  }

  /**
   * Writes the due PATH_CHALLENGE / PATH_RESPONSE frames at `at` (the caller leaves
   * 2 x {@link PATH_FRAME_LENGTH} bytes of room); the challenge is repeated every `repeatMs`
   * until answered. Returns the new offset.
   */
  writeFrames(buf: Uint8Array, at: number, now: number, repeatMs: number): number {
    if (this.response !== null) {
      buf[at++] = FrameType.PATH_RESPONSE;
      buf.set(this.response, at);
      at += PATH_DATA_LENGTH;
      this.response = null;
    }
    if (this.challengeDue && this.challenge !== null) {
      buf[at++] = FrameType.PATH_CHALLENGE;
      buf.set(this.challenge, at);
      at += PATH_DATA_LENGTH;
      this.challengeDue = false;
      this.nextChallengeAt = now + repeatMs;
    }
    return at;
  }

  /** Earliest time {@link onTimeout} must run. */
  deadline(): number {
    return this.challenge === null ? Infinity : Math.min(this.deadlineAt, this.nextChallengeAt);
  }

  /** Repeats a lost challenge, or gives up on the address. */
  onTimeout(now: number): void {
    if (this.challenge === null) return;
    if (now >= this.deadlineAt) {
      this.trust();
      this.outcome = 'failed';
      return;
    }
    if (now >= this.nextChallengeAt) {
      this.challengeDue = true;
      this.nextChallengeAt = Infinity;
    }
  }

  /** The outcome of the last validation, reported once. */
  takeOutcome(): PathOutcome | null {
    const outcome = this.outcome;
    this.outcome = null;
    return outcome;
  }
}
