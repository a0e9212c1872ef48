/**
 * A per-node budget for hole-punch probes to addresses nobody has confirmed yet.
 *
 * A punch's candidate addresses are the peer's own claims (its provider record, its offer).
 * A hostile peer can list third parties' addresses, and every node that punches to it
 * would then aim probes at them (a reflection vector: no amplification, but many
 * clients). This token bucket per target (an address, or a whole host for the bulk
 * strategies) caps what one node sends to any one such target, however many attempts it
 * starts and whatever the peer answers (holepunch-guard.ts decides what is charged).
 */
import { invalidArgument } from '../errors.js';
import type { Address } from '../util/address.js';
import { formatAddress } from '../util/address.js';
import type { Clock } from '../util/clock.js';
import { LruMap } from '../util/lru.js';

/** Per-target budget of hole-punch probes to unconfirmed addresses (`HolePunchOptions.probeBudget`). */
export interface ProbeBudgetOptions {
  /** Probes a target may get at once (bucket size). Default 20. */
  burst?: number;
  /** Probes per second a target's bucket regains. Default 2. */
  perSecond?: number;
  /** Targets remembered at most (least recently used forgotten first). Default 1024. */
  maxTargets?: number;
  /** What a bucket is per: one address ("host:port", the default) or one host (any port). */
  per?: 'address' | 'host';
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date. */
  at: number;
}

/** Token bucket per target address ("host:port") or host, bounded in memory, on an injected clock. */
export class ProbeBudget {
  private readonly burst: number;
  private readonly perHost: boolean;
  private readonly perMs: number;
  private readonly buckets: LruMap<string, Bucket>;

  constructor(
    private readonly clock: Clock,
    options: ProbeBudgetOptions = {},
  ) {
    this.burst = options.burst ?? 20;
    const perSecond = options.perSecond ?? 2;
    const maxTargets = options.maxTargets ?? 1024;
    this.perHost = options.per === 'host';
    if (options.per !== undefined && options.per !== 'address' && options.per !== 'host') throw invalidArgument('per', "expected 'address' or 'host'");
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
    return this.takeUpTo(address, 1) === 1;
  }

  /** Spends up to `count` probes towards `address` at once; returns how many the budget allowed (0 to `count`). */
  takeUpTo(address: Address, count: number): number {
    if (!(count >= 1)) return 0;
    const key = this.perHost ? address.host : formatAddress(address);
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
    const granted = Math.max(0, Math.min(Math.floor(count), Math.floor(bucket.tokens)));
    bucket.tokens -= granted;
    return granted;
  }
}
