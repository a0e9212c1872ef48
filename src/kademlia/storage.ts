/**
 * Records this node holds for others. A key holds a set of records, at most one per
 * author (1-to-many: discovery keeps up to ~1,000 provider records under one service
 * key). Every record is verified before it is kept; a newer seq from the same author
 * replaces the older one, an older one or a replay is refused, and a signed withdrawal
 * is kept (and served) until it expires so the live record it replaced cannot return.
 * Memory is bounded in total, per key and per source (the node that sent the STORE).
 *
 * Fairness inside a key. Each record is charged to the source that introduced it here (or
 * to its author, once the author stores it itself). A source may add any number of
 * authors while the key has room: a holder's refresh legitimately forwards a whole
 * provider set (up to maxPerKey authors) to a node that just became a holder, so no
 * per-source cap per key can tell it from a flood. When the key is full, a new author gets
 * in by evicting a record of the source charged with the most records under that key,
 * provided that source holds at least two more than the newcomer's (so two sources never
 * trade places forever). A provider storing its own record (one record, charged to
 * itself) therefore always gets in, whatever one source filled the key with; and what a
 * bulk source introduced is the first to go. Only sybils spread over as many sources as
 * the key has slots, one record each, could keep a newcomer out.
 *
 * Store-wide: a full store lets a newcomer evict only records of authors not yet established
 * here, and bounds each author and source network (src/kademlia/store-tenure.ts).
 *
 * Cheap refusals come before the signature check: a replay or an older seq of a held
 * author, and an identical re-store, are answered without verifying; a source whose
 * records keep failing verification exhausts a {@link FailureBudget} and is refused
 * without verification until it refills.
 */
import type { CryptoSuite } from '../crypto/types.js';
import { bytesToHex } from '../util/bytes.js';
import { DEFAULT_VERIFY_FAILURES_PER_SECOND, FailureBudget } from './failure-budget.js';

/**
 * A source network may cause this many times one source's failed verifications (several
 * honest nodes may share a NAT's /24). Trade-off: one attacker behind a carrier-grade NAT can
 * spend its /24's budget at a holder, which then refuses that /24's STOREs that need a
 * verification for about a second at a time; their authors' other holders still take them.
 */
const NET_FAILURE_FACTOR = 4;
import { isId, sameId } from './keyspace.js';
import { TenureBook, type SourceQuota } from './store-tenure.js';
import { authorKey, checkRecord, isBoundMutable, isImmutable, supersedes } from './record.js';
import type { SignedRecord, StoreResult } from './types.js';

/**
 * Longest expiry accepted for open-set records (signed records under a key that is not
 * their author's own mutable key: discovery's provider records and withdrawals). Providers
 * use at most 24 h and a withdrawal outlives its record by seconds; the hour on top
 * absorbs clock skew between author and holder. Immutable and mutable values keep
 * {@link RecordStoreOptions.maxTtlMs} (dht.put accepts ttlMs up to it).
 */
export const MAX_OPEN_SET_TTL_MS = 25 * 3600_000;

/** Limits and clocks of a {@link RecordStore}. */
export interface RecordStoreOptions {
  suite: CryptoSuite;
  /** Wall-clock milliseconds since the epoch (records carry absolute expiries). */
  wallClock: () => number;
  /** Most records held in total. Default 20,000. */
  maxRecords?: number;
  /** Most records (distinct authors) under one key. Default 1,000. */
  maxPerKey?: number;
  /** Most records one source may have stored here. Default 1,000. */
  maxPerSource?: number;
  /** Furthest a record's expiry may lie in the future, ms. Default 48 h. */
  maxTtlMs?: number;
  /** Furthest an open-set record's expiry may lie in the future, ms. Default {@link MAX_OPEN_SET_TTL_MS} (never above maxTtlMs). */
  maxOpenSetTtlMs?: number;
  /** Failed signature checks one source may cause per second (and in a burst). Default 50. */
  verifyFailuresPerSecond?: number;
  /** Most records one author may hold in the whole store. Default 1,000. */
  maxPerAuthor?: number;
  /** Most records charged to sources of one network (/24, /48). Default a quarter of maxRecords. */
  maxPerNetwork?: number;
  /** Continuous presence after which an author's records cannot be evicted by a fill, ms. Default 10 minutes. */
  establishedAfterMs?: number;
}

/** One held record and its bookkeeping. */
export interface HeldRecord {
  record: SignedRecord;
  /** Hex ID of the node that stored it (charged against its quota). */
  source: string;
  /** Wall time it was last stored or refreshed. */
  storedAt: number;
}

interface Held extends HeldRecord {
  /** The author its mutable key names: never evicted, never counted in the key's tally. */
  bound: boolean;
  /** Hex author key (the key of byAuthor). */
  readonly author: string;
  /** Source network of `source` when its address has one (store-wide quota). */
  net: string | undefined;
  /** Hex of the key it is held under. */
  readonly keyHex: string;
}

interface KeySet {
  key: Uint8Array;
  byAuthor: Map<string, Held>;
  /** Evictable records under this key, by the source they are charged to. */
  tally: Map<string, number>;
}

const OK: StoreResult = { ok: true };

/** Least time between two sweeps a full store runs on a STORE (a sweep walks every record). */
const FULL_SWEEP_INTERVAL_MS = 1000;

/** Bounded, verified 1-to-many record storage. */
export class RecordStore {
  private readonly sets = new Map<string, KeySet>();
  private readonly perSource = new Map<string, number>();
  private total = 0;
  private readonly maxRecords: number;
  private readonly maxPerKey: number;
  private readonly maxPerSource: number;
  private readonly failures: FailureBudget;
  /** The same per source network: all identities behind one /24 (/48) share it. */
  private readonly netFailures: FailureBudget;
  /** Author tenure, store-wide quotas and the young records a full store may evict. */
  private readonly tenure: TenureBook<Held>;
  /** Wall time of the last sweep a full store ran (see FULL_SWEEP_INTERVAL_MS). */
  private lastFullSweep = Number.NEGATIVE_INFINITY;
  /** Furthest expiry accepted, ms ahead of now. */
  readonly maxTtlMs: number;
  /** Furthest expiry accepted for open-set records, ms ahead of now. */
  readonly maxOpenSetTtlMs: number;
  /**
   * Called after a put changed what is held under a key: a new author's record, or a newer
   * one replacing the held record (`previous`). Not called for identical re-stores or refusals.
   * Discovery's live watch hooks it to push changes to subscribers; it must not throw.
   */
  onChange: ((record: SignedRecord, previous: SignedRecord | undefined) => void) | undefined;
  /** An extra limit per source (consortium limits per organisation), set by the store's owner. */
  quota: SourceQuota | undefined;

  constructor(private readonly options: RecordStoreOptions) {
    this.maxRecords = options.maxRecords ?? 20_000;
    this.maxPerKey = options.maxPerKey ?? 1_000;
    this.maxPerSource = options.maxPerSource ?? 1_000;
    this.maxTtlMs = options.maxTtlMs ?? 48 * 3600_000;
    this.maxOpenSetTtlMs = Math.min(this.maxTtlMs, options.maxOpenSetTtlMs ?? MAX_OPEN_SET_TTL_MS);
    const perSecond = options.verifyFailuresPerSecond ?? DEFAULT_VERIFY_FAILURES_PER_SECOND;
    this.failures = new FailureBudget(perSecond, options.wallClock);
    this.netFailures = new FailureBudget(NET_FAILURE_FACTOR * perSecond, options.wallClock);
    const { establishedAfterMs = 10 * 60_000, maxPerAuthor = 1_000, maxPerNetwork = Math.max(1, Math.floor(this.maxRecords / 4)) } = options;
    this.tenure = new TenureBook<Held>({ establishedAfterMs, maxPerAuthor, maxPerNetwork }, options.wallClock);
  }

  /** True when `author` (hex) has held a record here long enough to be safe from fills. */
  isEstablished(author: string): boolean {
    return this.tenure.isEstablished(author);
  }

  /** Most records accepted under one key (readers use it to bound what they verify). */
  get maxPerKeyLimit(): number {
    return this.maxPerKey;
  }

  /** Records held in total. */
  get size(): number {
    return this.total;
  }

  /** Records charged to one source (hex node ID). */
  sourceCount(source: string): number {
    return this.perSource.get(source) ?? 0;
  }

  /** Records under `key` charged to `source` (the bound author of a mutable key not counted). */
  sourceCountUnder(key: Uint8Array, source: string): number {
    return this.sets.get(bytesToHex(key))?.tally.get(source) ?? 0;
  }

  /** Furthest expiry, ms ahead of now, this store accepts for a well-formed `record` (by its kind). */
  maxTtlFor(record: SignedRecord): number {
    return isImmutable(record) || isBoundMutable(this.options.suite, record) ? this.maxTtlMs : this.maxOpenSetTtlMs;
  }

  /**
   * Verifies and stores `record` under `key`, charged to `source` (hex node ID of the sender).
   * Never throws: bad input is refused with a reason. `sourceNet` (/24 or /48 of the source, undefined on
   * loopback and LANs) shares a larger failure budget among its identities: fresh node IDs are cheap.
   */
  put(key: Uint8Array, record: SignedRecord, source: string, sourceNet?: string): StoreResult {
    const now = this.options.wallClock();
    if (!isId(key) || !looksLikeRecord(record) || !sameId(record.key, key)) return { ok: false, reason: 'invalid' };
    if (record.expiresAt <= now) return { ok: false, reason: 'expired' };
    const keyHex = bytesToHex(key);
    const author = authorKey(record);
    let set = this.sets.get(keyHex);
    let held = set?.byAuthor.get(author);
    if (held !== undefined && held.record.expiresAt <= now) {
      this.removeHeld(keyHex, set!, author, held);
      set = this.sets.get(keyHex);
      held = undefined;
    }
    if (held !== undefined) {
      // Neither answer needs the signature: the held copy was verified and stays as it is.
      if (sameRecord(held.record, record)) {
        held.storedAt = now;
        this.chargeToAuthor(set!, held, author, source, sourceNet);
        return OK;
      }
      if (!supersedes(record, held.record)) return { ok: false, reason: 'stale' };
    }
    if (record.expiresAt > now + this.maxTtlMs) return { ok: false, reason: 'invalid' };
    let bound: boolean | undefined;
    const isBound = () => (bound ??= isBoundMutable(this.options.suite, record));
    if (record.expiresAt > now + this.maxOpenSetTtlMs && !isImmutable(record) && !isBound()) return { ok: false, reason: 'invalid' };
    let victim: [string, Held] | undefined;
    let storeVictim: Held | undefined;
    if (held === undefined) {
      if (this.total >= this.maxRecords && now - this.lastFullSweep >= FULL_SWEEP_INTERVAL_MS) {
        this.lastFullSweep = now;
        this.sweep();
        set = this.sets.get(keyHex);
      }
      if (this.sourceCount(source) >= this.maxPerSource || this.tenure.overQuota(author, sourceNet) !== undefined || this.quota?.allows(source) === false)
        return { ok: false, reason: 'limit' };
      if (set !== undefined && set.byAuthor.size >= this.maxPerKey) {
        victim = this.chooseVictim(set, source, isBound());
        if (victim === undefined) return { ok: false, reason: 'limit' };
      } else if (this.total >= this.maxRecords) {
        storeVictim = this.tenure.victim(source, author);
        if (storeVictim === undefined) return { ok: false, reason: 'limit' };
      }
    }
    if (!this.failures.allows(source) || (sourceNet !== undefined && !this.netFailures.allows(sourceNet))) return { ok: false, reason: 'limit' };
    const problem = checkRecord(this.options.suite, record, key, now, this.maxTtlMs);
    if (problem === 'signature') {
      this.failures.charge(source);
      if (sourceNet !== undefined) this.netFailures.charge(sourceNet);
    }
    if (problem === 'expired') return { ok: false, reason: 'expired' };
    if (problem !== null) return { ok: false, reason: 'invalid' };
    if (held !== undefined) {
      const replacement: Held = { record: copyRecord(record), source: held.source, storedAt: now, bound: held.bound, author, net: held.net, keyHex };
      set!.byAuthor.set(author, replacement);
      this.tenure.replaced(held, replacement);
      this.chargeToAuthor(set!, replacement, author, source, sourceNet);
      this.onChange?.(replacement.record, held.record);
      return OK;
    }
    if (victim !== undefined) {
      this.removeHeld(keyHex, set!, victim[0], victim[1]);
      set = this.sets.get(keyHex);
    }
    if (storeVictim !== undefined) {
      this.removeHeld(storeVictim.keyHex, this.sets.get(storeVictim.keyHex)!, storeVictim.author, storeVictim);
      set = this.sets.get(keyHex);
    }
    if (set === undefined) {
      set = { key: Uint8Array.from(key), byAuthor: new Map(), tally: new Map() };
      this.sets.set(keyHex, set);
    }
    const entry: Held = { record: copyRecord(record), source, storedAt: now, bound: isBound(), author, net: sourceNet, keyHex };
    set.byAuthor.set(author, entry);
    this.tenure.added(entry);
    this.total++;
    this.charge(source, 1);
    if (!entry.bound) tallyAdd(set, source, 1);
    this.onChange?.(entry.record, undefined);
    return OK;
  }

  /** Unexpired records under `key` (withdrawals included: readers need them to drop the provider). */
  get(key: Uint8Array): SignedRecord[] {
    const set = this.sets.get(bytesToHex(key));
    if (set === undefined) return [];
    const now = this.options.wallClock();
    const out: SignedRecord[] = [];
    for (const held of set.byAuthor.values()) if (held.record.expiresAt > now) out.push(held.record);
    return out;
  }

  /** Every held record with its bookkeeping (for holder refresh). */
  *held(): IterableIterator<HeldRecord> {
    for (const set of this.sets.values()) yield* set.byAuthor.values();
  }

  /** Keys held (32-byte arrays). */
  *keys(): IterableIterator<Uint8Array> {
    for (const set of this.sets.values()) yield set.key;
  }

  /** Drops expired records; returns how many. */
  sweep(): number {
    const now = this.options.wallClock();
    let removed = 0;
    for (const [keyHex, set] of this.sets) {
      for (const [author, held] of set.byAuthor) {
        if (held.record.expiresAt <= now) {
          this.removeHeld(keyHex, set, author, held);
          removed++;
        }
      }
    }
    return removed;
  }

  /**
   * The record a new author evicts from a full key: the soonest-expiring evictable record
   * of the source charged with the most under the key, if that source holds at least two
   * more than `source` (the bound author of a mutable key needs no such margin).
   */
  private chooseVictim(set: KeySet, source: string, newcomerBound: boolean): [string, Held] | undefined {
    let largest: string | undefined;
    let most = 0;
    for (const [candidate, count] of set.tally) {
      if (count > most) {
        most = count;
        largest = candidate;
      }
    }
    if (largest === undefined || (!newcomerBound && most < (set.tally.get(source) ?? 0) + 2)) return undefined;
    let victim: [string, Held] | undefined;
    for (const entry of set.byAuthor) {
      const held = entry[1];
      if (held.bound || held.source !== largest) continue;
      if (victim === undefined || held.record.expiresAt < victim[1].record.expiresAt) victim = entry;
    }
    return victim;
  }

  /**
   * A record its author stored itself is charged to the author from then on: the most
   * accountable owner, and it frees the introducer's share (a holder refresh, say). A
   * re-store by anyone else leaves the charge where it was, so nobody can take over
   * another's records to make them look like a bulk source's.
   */
  private chargeToAuthor(set: KeySet, held: Held, author: string, source: string, sourceNet: string | undefined): void {
    if (source !== author || held.source === author || this.sourceCount(author) >= this.maxPerSource) return;
    this.charge(held.source, -1);
    if (!held.bound) tallyAdd(set, held.source, -1);
    this.tenure.recharged(held, author, sourceNet);
    this.charge(author, 1);
    if (!held.bound) tallyAdd(set, author, 1);
  }

  private removeHeld(keyHex: string, set: KeySet, author: string, held: Held): void {
    set.byAuthor.delete(author);
    this.tenure.removed(held);
    if (!held.bound) tallyAdd(set, held.source, -1);
    if (set.byAuthor.size === 0) this.sets.delete(keyHex);
    this.total--;
    this.charge(held.source, -1);
  }

  private charge(source: string, delta: number): void {
    const next = (this.perSource.get(source) ?? 0) + delta;
    this.quota?.charged(source, delta);
    if (next <= 0) this.perSource.delete(source);
    else this.perSource.set(source, next);
  }
}

function tallyAdd(set: KeySet, source: string, delta: number): void {
  const next = (set.tally.get(source) ?? 0) + delta;
  if (next <= 0) set.tally.delete(source);
  else set.tally.set(source, next);
}

/** Enough structure to look the record up and compare it with a held one (checkRecord does the rest). */
function looksLikeRecord(record: SignedRecord): boolean {
  if (record === null || typeof record !== 'object') return false;
  const { key, author, seq, expiresAt, value, signature } = record;
  return (
    key instanceof Uint8Array &&
    author instanceof Uint8Array &&
    value instanceof Uint8Array &&
    signature instanceof Uint8Array &&
    Number.isSafeInteger(seq) &&
    seq >= 0 &&
    Number.isSafeInteger(expiresAt) &&
    expiresAt >= 0
  );
}

function sameRecord(a: SignedRecord, b: SignedRecord): boolean {
  return a.seq === b.seq && a.expiresAt === b.expiresAt && Buffer.compare(a.signature, b.signature) === 0 && Buffer.compare(a.value, b.value) === 0;
}

/** Held records are copied: the caller's arrays may be views into a reused datagram buffer. */
function copyRecord(record: SignedRecord): SignedRecord {
  const copy: SignedRecord = {
    key: Uint8Array.from(record.key),
    author: Uint8Array.from(record.author),
    seq: record.seq,
    expiresAt: record.expiresAt,
    value: Uint8Array.from(record.value),
    signature: Uint8Array.from(record.signature),
  };
  if (record.salt !== undefined) copy.salt = Uint8Array.from(record.salt);
  if (record.withdrawn) copy.withdrawn = true;
  return copy;
}
