/**
 * Per-key token buckets with a bounded key table. Used to cap the work a single
 * source can cause (key agreements for unknown senders, answers to garbage).
 */
import type { Clock } from './clock.js';
import { LruMap } from './lru.js';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Options of a {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** Tokens added per second. */
  ratePerSecond: number;
  /** Bucket size (the burst allowed). */
  burst: number;
  /** Most keys tracked at once; the least recently used key is forgotten beyond it. */
  maxKeys?: number;
}

/** Token-bucket rate limiter keyed by string (e.g. a source IP). */
export class RateLimiter {
  private readonly buckets: LruMap<string, Bucket>;
  constructor(
    private readonly clock: Clock,
    private readonly options: RateLimiterOptions,
  ) {
    this.buckets = new LruMap(options.maxKeys ?? 4096);
  }

  /** Takes `cost` tokens for `key`; false when the bucket is empty. */
  take(key: string, cost = 1): boolean {
    const now = this.clock.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: this.options.burst, updatedAt: now };
      this.buckets.set(key, bucket);
    } else {
      const refill = ((now - bucket.updatedAt) / 1000) * this.options.ratePerSecond;
      bucket.tokens = Math.min(this.options.burst, bucket.tokens + refill);
      bucket.updatedAt = now;
    }
    if (bucket.tokens < cost) return false;
    bucket.tokens -= cost;
    return true;
  }
}
