/**
 * Store-wide fairness of the {@link RecordStore}: who may take the last free slots, and
 * whose records a newcomer may push out when the whole store is full.
 *
 * Records of established authors are never evicted by a fill. An author is established once
 * it has held a record here continuously for `establishedAfterMs` (default 10 minutes:
 * about ten republish rounds of a provider with the default 2-minute TTL); its tenure starts
 * with its first record and ends when its last one leaves. A fill (20,000 records from
 * many keys and fresh identities) is young by construction, so when the store is full a
 * newcomer may only evict a young record: the oldest young record of the source charged
 * with the most young records, provided that source holds at least two more young records
 * than the newcomer's source (two sources never trade places forever), or is the
 * newcomer's own source (it then churns only itself). A newcomer whose author is itself
 * established needs no margin. What bulk sources filled the store with is the first to go,
 * and oldest first, so a flood that keeps coming never lets its own records establish.
 *
 * Quotas bound what one author and one source network (/24 or /48, as the node groups its
 * routing table; none for loopback and LAN sources) may hold in the whole store, so a
 * single host cannot fill it with fresh identities and a single identity cannot fill it
 * under many keys.
 *
 * Cost: every operation is O(1) except finding the heaviest young source, which scans the
 * sources holding young records; the result is reused for {@link HEAVIEST_REUSE} evictions
 * while it still has young records, so a sustained flood of STOREs into a full store costs
 * one scan per that many.
 */

/** What the book needs of a held record. */
export interface TenureEntry {
  /** Hex author key. */
  readonly author: string;
  /** Hex ID of the source it is charged to (may change: see {@link TenureBook.recharged}). */
  source: string;
  /** Source network it is charged to, when the source's address has one. */
  net: string | undefined;
}

/** Limits of a {@link TenureBook}. */
export interface TenureLimits {
  /** Continuous presence after which an author's records are safe from fills, ms. */
  establishedAfterMs: number;
  /** Most records one author may hold in the store. */
  maxPerAuthor: number;
  /** Most records charged to sources of one network. */
  maxPerNetwork: number;
}

/**
 * A limit the store's owner adds on top of its own quotas (consortium limits per
 * organisation, src/node/consortium-limits.ts): asked before a new record is charged to a
 * source, told of every change of a source's count (records added, removed, recharged).
 */
export interface SourceQuota {
  /** False refuses a new record charged to `source` (reason `'limit'`). */
  allows(source: string): boolean;
  /** `source` is charged `delta` more records (negative: fewer). Must not throw. */
  charged(source: string, delta: number): void;
}

/** How many evictions reuse one scan for the heaviest young source. */
export const HEAVIEST_REUSE = 64;

interface Tenure {
  since: number;
  count: number;
}

/** Author tenure, per-author and per-network counts, and the young records by source. */
export class TenureBook<E extends TenureEntry> {
  private readonly authors = new Map<string, Tenure>();
  private readonly nets = new Map<string, number>();
  /** Records whose author was not established when last looked at, by source, oldest first. */
  private readonly young = new Map<string, Set<E>>();
  private heaviest: string | undefined;
  private heaviestUses = 0;

  constructor(
    private readonly limits: TenureLimits,
    private readonly now: () => number,
  ) {}

  /** Authors with at least one record held (bounded by the store's record limit). */
  get authorCount(): number {
    return this.authors.size;
  }

  /** True when `author` has held a record here for at least `establishedAfterMs`. */
  isEstablished(author: string): boolean {
    const tenure = this.authors.get(author);
    return tenure !== undefined && this.now() - tenure.since >= this.limits.establishedAfterMs;
  }

  /** Records held by `author`. */
  authorRecords(author: string): number {
    return this.authors.get(author)?.count ?? 0;
  }

  /** Records charged to sources of `net`. */
  netRecords(net: string): number {
    return this.nets.get(net) ?? 0;
  }

  /** The quota a new record of `author` from `net` would break, if any. */
  overQuota(author: string, net: string | undefined): 'author' | 'network' | undefined {
    if (this.authorRecords(author) >= this.limits.maxPerAuthor) return 'author';
    if (net !== undefined && this.netRecords(net) >= this.limits.maxPerNetwork) return 'network';
    return undefined;
  }

  /** A new record entered the store. */
  added(entry: E): void {
    const tenure = this.authors.get(entry.author);
    if (tenure === undefined) this.authors.set(entry.author, { since: this.now(), count: 1 });
    else tenure.count++;
    if (entry.net !== undefined) this.nets.set(entry.net, this.netRecords(entry.net) + 1);
    if (!this.isEstablished(entry.author)) this.addYoung(entry);
  }

  /** A record left the store (expired, withdrawn and swept, evicted). */
  removed(entry: E): void {
    const tenure = this.authors.get(entry.author);
    if (tenure !== undefined && --tenure.count <= 0) this.authors.delete(entry.author);
    this.removeNet(entry.net);
    this.dropYoung(entry);
  }

  /** `next` replaced `previous` (a newer seq of the same author under the same key). */
  replaced(previous: E, next: E): void {
    const pool = this.young.get(previous.source);
    const wasYoung = pool?.delete(previous) ?? false;
    if (pool?.size === 0) this.young.delete(previous.source);
    if (previous.net !== next.net) {
      this.removeNet(previous.net);
      if (next.net !== undefined) this.nets.set(next.net, this.netRecords(next.net) + 1);
    }
    if (wasYoung && !this.isEstablished(next.author)) this.addYoung(next);
  }

  /** `entry` is now charged to another source and network (its author stored it itself). */
  recharged(entry: E, source: string, net: string | undefined): void {
    const wasYoung = this.dropYoung(entry);
    this.removeNet(entry.net);
    entry.source = source;
    entry.net = net;
    if (net !== undefined) this.nets.set(net, this.netRecords(net) + 1);
    if (wasYoung && !this.isEstablished(entry.author)) this.addYoung(entry);
  }

  /**
   * The record a new record of `author` from `source` may evict from a full store, or
   * undefined when it must be refused (see the file comment).
   */
  victim(source: string, author: string): E | undefined {
    const newcomerEstablished = this.isEstablished(author);
    for (let attempt = 0; attempt < 2; attempt++) {
      const heaviest = this.heaviestSource(attempt > 0);
      if (heaviest === undefined) return undefined;
      const pool = this.young.get(heaviest)!;
      // Authors established since their record was pooled leave the pool here, lazily.
      for (const entry of pool) {
        if (!this.isEstablished(entry.author)) {
          // A source's newcomer may always replace its own oldest young record (it churns only itself).
          if (heaviest === source) return entry;
          const margin = newcomerEstablished ? 0 : (this.young.get(source)?.size ?? 0) + 2;
          if (pool.size >= margin) return entry;
          if (attempt > 0) return undefined;
          break; // the reused scan may be stale: rescan once before refusing
        }
        pool.delete(entry);
      }
      if (pool.size === 0) this.young.delete(heaviest);
    }
    return undefined;
  }

  private heaviestSource(rescan: boolean): string | undefined {
    if (!rescan && this.heaviest !== undefined && this.heaviestUses < HEAVIEST_REUSE && (this.young.get(this.heaviest)?.size ?? 0) > 0) {
      this.heaviestUses++;
      return this.heaviest;
    }
    let best: string | undefined;
    let most = 0;
    for (const [source, pool] of this.young) {
      if (pool.size > most) {
        most = pool.size;
        best = source;
      }
    }
    this.heaviest = best;
    this.heaviestUses = 0;
    return best;
  }

  private addYoung(entry: E): void {
    let pool = this.young.get(entry.source);
    if (pool === undefined) {
      pool = new Set();
      this.young.set(entry.source, pool);
    }
    pool.add(entry);
  }

  private dropYoung(entry: E): boolean {
    const pool = this.young.get(entry.source);
    if (pool === undefined || !pool.delete(entry)) return false;
    if (pool.size === 0) this.young.delete(entry.source);
    return true;
  }

  private removeNet(net: string | undefined): void {
    if (net === undefined) return;
    const left = this.netRecords(net) - 1;
    if (left <= 0) this.nets.delete(net);
    else this.nets.set(net, left);
  }
}
