/**
 * Replay protection for session datagrams.
 *
 * {@link ReplayWindow} tracks the counters of one sender boot: the highest accepted counter
 * and a 2048-bit ring bitmap of the ones below it (the RFC 6479 shape). {@link PeerReplayState}
 * adds the boot rule on top: datagrams from a boot older than the newest one seen for the
 * peer are stale replays; a newer boot starts a fresh window.
 *
 * Counters are bigint because the wire field is a full uint64 and a hostile peer may send
 * any value; the few bigint operations per datagram cost far less than the AEAD around them
 * (see bench/codec.ts).
 */
import { compareBootIds } from './boot-id.js';

/** Number of counters below the highest accepted one that are still tracked. */
export const REPLAY_WINDOW_SIZE = 2048;

const WORDS = REPLAY_WINDOW_SIZE / 32;
const INDEX_MASK = BigInt(REPLAY_WINDOW_SIZE - 1);
const WINDOW = BigInt(REPLAY_WINDOW_SIZE);
const MAX_COUNTER = 0xffffffffffffffffn;

function toBigInt(counter: bigint | number): bigint {
  return typeof counter === 'bigint' ? counter : BigInt(counter);
}

/** Sliding window of accepted counters for one (peer, boot). */
export class ReplayWindow {
  private readonly bits = new Uint32Array(WORDS);
  /** Highest accepted counter; -1 before the first. */
  private top = -1n;

  /** Highest accepted counter, or -1n when nothing was accepted yet. */
  get highest(): bigint {
    return this.top;
  }

  /**
   * True when `counter` would be accepted: newer than the highest seen, or inside the
   * window and not seen yet. Does not mark it; call before authenticating to drop
   * obvious replays cheaply.
   */
  check(counter: bigint | number): boolean {
    const c = toBigInt(counter);
    if (c > this.top) return c <= MAX_COUNTER;
    if (c < 0n || this.top - c >= WINDOW) return false;
    const index = Number(c & INDEX_MASK);
    return (this.bits[index >>> 5] & (1 << (index & 31))) === 0;
  }

  /**
   * Marks `counter` as seen, returning false (and changing nothing) when it is a duplicate
   * or older than the window. Call only after the datagram authenticated, so forged
   * datagrams cannot advance or poison the window.
   */
  accept(counter: bigint | number): boolean {
    const c = toBigInt(counter);
    if (c > this.top) {
      if (c > MAX_COUNTER) return false;
      const advance = c - this.top;
      if (advance >= WINDOW || this.top < 0n) this.bits.fill(0);
      else this.clearAfter(Number(this.top & INDEX_MASK), Number(advance));
      this.top = c;
    } else {
      if (c < 0n || this.top - c >= WINDOW) return false;
    }
    const index = Number(c & INDEX_MASK);
    const word = index >>> 5;
    const mask = 1 << (index & 31);
    if ((this.bits[word] & mask) !== 0) return false;
    this.bits[word] |= mask;
    return true;
  }

  /** Forgets everything (a new sender boot). */
  reset(): void {
    this.bits.fill(0);
    this.top = -1n;
  }

  /** Clears the `count` ring positions following `from` (the slots the window slides over). */
  private clearAfter(from: number, count: number): void {
    let index = (from + 1) & (REPLAY_WINDOW_SIZE - 1);
    let left = count;
    while (left > 0) {
      if ((index & 31) === 0 && left >= 32) {
        this.bits[index >>> 5] = 0;
        index = (index + 32) & (REPLAY_WINDOW_SIZE - 1);
        left -= 32;
      } else {
        this.bits[index >>> 5] &= ~(1 << (index & 31));
        index = (index + 1) & (REPLAY_WINDOW_SIZE - 1);
        left--;
      }
    }
  }
}

/**
 * Replay state of one peer across its restarts: the newest boot ID seen and that boot's
 * window. Datagrams of an older boot are rejected; the first authenticated datagram of a
 * newer boot replaces the window.
 */
export class PeerReplayState {
  private boot: Uint8Array | null = null;
  private readonly window = new ReplayWindow();

  /** The newest boot ID accepted for this peer (a copy), or null. */
  get bootId(): Uint8Array | null {
    return this.boot;
  }

  /** True when a datagram of (`bootId`, `counter`) would be accepted. Does not change state. */
  check(bootId: Uint8Array, counter: bigint | number): boolean {
    if (this.boot === null) return true;
    const order = compareBootIds(bootId, this.boot);
    if (order < 0) return false;
    if (order > 0) return true;
    return this.window.check(counter);
  }

  /** Records an authenticated datagram; false when it is a replay (duplicate, too old or from a stale boot). */
  accept(bootId: Uint8Array, counter: bigint | number): boolean {
    if (this.boot !== null) {
      const order = compareBootIds(bootId, this.boot);
      if (order < 0) return false;
      if (order === 0) return this.window.accept(counter);
    }
    const c = toBigInt(counter);
    if (c < 0n || c > MAX_COUNTER) return false;
    // First datagram or a newer boot: copy the ID (the caller's bytes are a view into a datagram buffer).
    this.boot = Uint8Array.from(bootId);
    this.window.reset();
    return this.window.accept(c);
  }
}
