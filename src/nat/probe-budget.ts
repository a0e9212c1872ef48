/**
 * A per-node budget for hole-punch probes to addresses nobody has confirmed yet.
 *
 * Before the rendezvous answer, an initiator probes the addresses a provider published in
 * its DHT record. A hostile record can list third parties' addresses, and every client
 * that connects to it would then aim probes at them (a reflection vector: no
 * amplification, but many clients). This token bucket per target address caps what one
 * node sends to any one such address, however many attempts it starts.
 */
import { invalidArgument } from '../errors.js';
import type { Address } from '../util/address.js';
import { formatAddress } from '../util/address.js';
import type { Clock } from '../util/clock.js';
import { LruMap } from '../util/lru.js';

/** Options of a {@link ProbeBudget}. */
export interface ProbeBudgetOptions {
  /** Probes a target may get at once (bucket size). Default 20. */
  burst?: number;
  /** Probes per second a target's bucket regains. Default 2. */
  perSecond?: number;
  /** Targets remembered at most (least recently used forgotten first). Default 1024. */
  maxTargets?: number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date. */
  at: number;
}

/** Token bucket per target address ("host:port"), bounded in memory, on an injected clock. */
export class ProbeBudget {
  private readonly burst: number;
  private readonly perMs: number;
  private readonly buckets: LruMap<string, Bucket>;

  constructor(
    private readonly clock: Clock,
    options: ProbeBudgetOptions = {},
  ) {
    this.burst = options.burst ?? 20;
    const perSecond = options.perSecond ?? 2;
    const maxTargets = options.maxTargets ?? 1024;
    if (!(Number.isFinite(this.burst) && this.burst >= 1)) throw invalidArgument('burst', 'expected a finite number >= 1');
    if (!(Number.isFinite(perSecond) && perSecond >= 0)) throw invalidArgument('perSecond', 'expected a finite number >= 0');
    if (!(Number.isInteger(maxTargets) && maxTargets > 0)) throw invalidArgument('maxTargets', 'expected a positive integer');
    this.perMs = perSecond / 1000;
    this.buckets = new LruMap(maxTargets);
  }

  /** Targets currently remembered (at most `maxTargets`). */
  get size(): number {
    return this.buckets.size;
  }

  /** Spends one probe towards `address`: true when the budget allows it, false (nothing spent) when it is exhausted. */
  take(address: Address): boolean {
    const key = formatAddress(address);
    const now = this.clock.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      // A forgotten target starts full again: the bound on memory is worth more than the
      // last few tokens of a target that has been quiet for 1024 others.
      bucket = { tokens: this.burst, at: now };
      this.buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(this.burst, bucket.tokens + Math.max(0, now - bucket.at) * this.perMs);
      bucket.at = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
