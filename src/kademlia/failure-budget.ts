/**
 * Per-source budget of failed signature checks on STORE. A STORE with a valid write token
 * and a forged signature costs the receiver a SHA-256 and an Ed25519 verification (only
 * successes are cached), about 200 µs: one peer could keep a core busy with ~5k of them
 * a second. Honest nodes never send a record that fails verification, so each source gets a
 * token bucket of failures; once it is empty, that source's STOREs that would need a
 * verification are refused without one until the bucket refills.
 */
import { LruMap } from '../util/lru.js';

/** Failures a source may cause per second (and in a burst) by default. */
export const DEFAULT_VERIFY_FAILURES_PER_SECOND = 50;
/** Sources tracked; the least recently failing are forgotten first (a fresh bucket is full). */
const TRACKED_SOURCES = 4096;

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets of failed verifications, one per source. */
export class FailureBudget {
  private readonly buckets = new LruMap<string, Bucket>(TRACKED_SOURCES);

  /**
   * @param perSecond failures refilled per second; also the bucket size (the burst).
   * @param now milliseconds from any monotonic-enough clock (wall clock in the store).
   */
  constructor(
    private readonly perSecond: number,
    private readonly now: () => number,
  ) {}

  /** True when `source` may still cause a failed verification (its bucket holds a token). */
  allows(source: string): boolean {
    const bucket = this.buckets.peek(source);
    return bucket === undefined || this.refill(bucket) >= 1;
  }

  /** Charges one failed verification to `source`. */
  charge(source: string): void {
    const bucket = this.buckets.get(source) ?? { tokens: this.perSecond, at: this.now() };
    this.refill(bucket);
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    this.buckets.set(source, bucket);
  }

  private refill(bucket: Bucket): number {
    const now = this.now();
    // A clock that stepped back refills nothing (and does not punish either).
    const elapsed = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(this.perSecond, bucket.tokens + (elapsed * this.perSecond) / 1000);
    bucket.at = now;
    return bucket.tokens;
  }
}
