/**
 * Replay protection for session datagrams.
 *
 * {@link ReplayWindow} tracks the counters of one sender boot: the highest accepted counter
 * and a 2048-bit ring bitmap of the ones below it (the RFC 6479 shape). {@link PeerReplayState}
 * adds the boot rule on top: datagrams from a boot older than the newest one seen for the
 * peer are stale replays; a newer boot starts a fresh window.
 *
 * The wire field is a full uint64 and a hostile peer may send any value, so counters may be
 * bigints; but every counter a session layer sends is below 2^53 and arrives as a number
 * (packet.ts sessionCounter), which the window handles without BigInt arithmetic. A window
 * switches to bigint arithmetic only once a counter of 2^53 or more was accepted.
 *
 * Most peers of a DHT node exchange a handful of datagrams (a lookup asks each once), so the
 * 256-byte bitmap is allocated only once a peer's window holds more than {@link FEW_COUNTERS}
 * accepted counters; until then they are kept as a short list. At 10,000 nodes a node holds
 * state for hundreds of peers, and the bitmap was the largest part of it.
 */
import { compareBootIds } from './boot-id.js';

/** Number of counters below the highest accepted one that are still tracked. */
export const REPLAY_WINDOW_SIZE = 2048;

const WORDS = REPLAY_WINDOW_SIZE / 32;
/** Accepted counters a window keeps as a list before it allocates its bitmap. */
export const FEW_COUNTERS = 4;
const INDEX_MASK = BigInt(REPLAY_WINDOW_SIZE - 1);
const WINDOW = BigInt(REPLAY_WINDOW_SIZE);
const MAX_COUNTER = 0xffffffffffffffffn;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function toBigInt(counter: bigint | number): bigint {
  return typeof counter === 'bigint' ? counter : BigInt(counter);
}

/** Sliding window of accepted counters for one (peer, boot). */
export class ReplayWindow {
  /** Ring bitmap of the window, once more than {@link FEW_COUNTERS} counters were accepted in it; null before. */
  private bits: Uint32Array | null = null;
  /** Accepted counters inside the window while {@link bits} is null (number mode only). */
  private few: number[] = [];
  /**
   * Highest accepted counter (-1 before the first) while it is below 2^53: every counter a
   * session layer sends, so the per-datagram checks need no BigInt.
   */
  private top = -1;
  /** Counters at or below this are refused: set by {@link seal} when the window's detail is dropped. */
  private floor = -1;
  /** Highest accepted counter once one of 2^53 or more was accepted (hostile or absurd peers); null before. */
  private bigTop: bigint | null = null;

  /** Highest accepted counter, or -1n when nothing was accepted yet. */
  get highest(): bigint {
    return this.bigTop ?? BigInt(this.top);
  }

  /**
   * True when `counter` would be accepted: newer than the highest seen, or inside the
   * window and not seen yet. Does not mark it; call before authenticating to drop
   * obvious replays cheaply.
   */
  check(counter: bigint | number): boolean {
    if (typeof counter === 'bigint' && counter >= 0n && counter <= MAX_SAFE && this.bigTop === null) counter = Number(counter);
    if (typeof counter === 'number' && this.bigTop === null && Number.isSafeInteger(counter)) {
      if (counter > this.top) return true;
      if (counter <= this.floor || this.top - counter >= REPLAY_WINDOW_SIZE) return false;
      return this.bits === null ? !this.few.includes(counter) : this.unseen(counter % REPLAY_WINDOW_SIZE);
    }
    const c = toBigInt(counter);
    const top = this.bigTop ?? BigInt(this.top);
    if (c > top) return c <= MAX_COUNTER;
    if (c < 0n || top - c >= WINDOW || this.belowFloor(c)) return false;
    // Here the top is a bigint, so the bitmap exists (accepting one allocated it).
    return this.unseen(Number(c & INDEX_MASK));
  }

  /**
   * Marks `counter` as seen, returning false (and changing nothing) when it is a duplicate
   * or older than the window. Call only after the datagram authenticated, so forged
   * datagrams cannot advance or poison the window.
   */
  accept(counter: bigint | number): boolean {
    if (typeof counter === 'bigint' && counter >= 0n && counter <= MAX_SAFE && this.bigTop === null) counter = Number(counter);
    if (typeof counter === 'number' && this.bigTop === null && Number.isSafeInteger(counter)) {
      const bits = this.bits;
      if (counter > this.top) {
        const advance = counter - this.top;
        if (bits === null) this.few = this.few.filter((seen) => counter - seen < REPLAY_WINDOW_SIZE);
        else if (advance >= REPLAY_WINDOW_SIZE || this.top < 0) bits.fill(0);
        else this.clearAfter(bits, this.top % REPLAY_WINDOW_SIZE, advance);
        this.top = counter;
      } else if (counter <= this.floor || this.top - counter >= REPLAY_WINDOW_SIZE) return false;
      if (bits !== null) return this.mark(counter % REPLAY_WINDOW_SIZE, bits);
      if (this.few.includes(counter)) return false;
      if (this.few.length < FEW_COUNTERS) {
        this.few.push(counter);
        return true;
      }
      return this.mark(counter % REPLAY_WINDOW_SIZE, this.bitmap());
    }
    const c = toBigInt(counter);
    const top = this.bigTop ?? BigInt(this.top);
    const bits = this.bitmap();
    if (c > top) {
      if (c > MAX_COUNTER) return false;
      const advance = c - top;
      if (advance >= WINDOW || top < 0n) bits.fill(0);
      else this.clearAfter(bits, Number(top & INDEX_MASK), Number(advance));
      if (c <= MAX_SAFE) this.top = Number(c);
      else this.bigTop = c;
    } else {
      if (c < 0n || top - c >= WINDOW || this.belowFloor(c)) return false;
    }
    return this.mark(Number(c & INDEX_MASK), bits);
  }

  /** True when a sealed window refuses `c` (the bigint path: a top past 2^53 after the seal). */
  private belowFloor(c: bigint): boolean {
    return this.floor >= 0 && c <= BigInt(this.floor);
  }

  /** Forgets everything (a new sender boot). */
  reset(): void {
    this.bits = null;
    this.few = [];
    this.top = -1;
    this.floor = -1;
    this.bigTop = null;
  }

  /**
   * Drops the list or bitmap and refuses every counter up to the highest accepted one from
   * now on: what a peer's state shrinks to when it goes idle. Late datagrams that were still
   * in flight are refused with it, never a replay. A window past 2^53 (only a hostile peer's)
   * keeps its bitmap.
   */
  seal(): void {
    if (this.bigTop !== null) return;
    this.bits = null;
    this.few = [];
    this.floor = this.top;
  }

  /**
   * The bitmap, allocated on first need with the listed counters marked. They all lie inside
   * the window (the list is pruned as the top advances), so their ring positions are distinct.
   */
  private bitmap(): Uint32Array {
    if (this.bits !== null) return this.bits;
    const bits = new Uint32Array(WORDS);
    this.bits = bits;
    for (const seen of this.few) this.mark(seen % REPLAY_WINDOW_SIZE, bits);
    this.few = [];
    return bits;
  }

  private unseen(index: number): boolean {
    const bits = this.bits;
    return bits === null || (bits[index >>> 5] & (1 << (index & 31))) === 0;
  }

  /** Sets the bit of ring position `index`; false when it was set already (a duplicate). */
  private mark(index: number, bits: Uint32Array): boolean {
    const word = index >>> 5;
    const mask = 1 << (index & 31);
    if ((bits[word] & mask) !== 0) return false;
    bits[word] |= mask;
    return true;
  }

  /** Clears the `count` ring positions following `from` (the slots the window slides over). */
  private clearAfter(bits: Uint32Array, from: number, count: number): void {
    let index = (from + 1) & (REPLAY_WINDOW_SIZE - 1);
    let left = count;
    while (left > 0) {
      if ((index & 31) === 0 && left >= 32) {
        bits[index >>> 5] = 0;
        index = (index + 32) & (REPLAY_WINDOW_SIZE - 1);
        left -= 32;
      } else {
        bits[index >>> 5] &= ~(1 << (index & 31));
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

  /**
   * Shrinks this state to its boot ID and highest counter ({@link ReplayWindow.seal}) and
   * returns it: kept for a peer whose full state was dropped, so that its old datagrams
   * stay refused.
   */
  seal(): this {
    this.window.seal();
    return this;
  }

  /** Records an authenticated datagram; false when it is a replay (duplicate, too old or from a stale boot). */
  accept(bootId: Uint8Array, counter: bigint | number): boolean {
    if (this.boot !== null) {
      const order = compareBootIds(bootId, this.boot);
      if (order < 0) return false;
      if (order === 0) return this.window.accept(counter);
    }
    if (typeof counter === 'number' ? !(Number.isSafeInteger(counter) && counter >= 0) : counter < 0n || counter > MAX_COUNTER) return false;
    // First datagram or a newer boot: copy the ID (the caller's bytes are a view into a datagram buffer).
    this.boot = Uint8Array.from(bootId);
    this.window.reset();
    return this.window.accept(counter);
  }
}
