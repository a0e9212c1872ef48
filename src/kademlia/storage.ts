/**
 * Records this node holds for others. A key holds a set of records, at most one per
 * author (1-to-many: discovery keeps up to ~1,000 provider records under one service
 * key). Every record is verified before it is kept; a newer seq from the same author
 * replaces the older one, an older one or a replay is refused, and a signed withdrawal
 * is kept (and served) until it expires so the live record it replaced cannot return.
 * Memory is bounded in total, per key and per source (the node that sent the STORE).
 */
import type { CryptoSuite } from '../crypto/types.js';
import { bytesToHex } from '../util/bytes.js';
import { authorKey, checkRecord, isBoundMutable, supersedes } from './record.js';
import type { SignedRecord, StoreResult } from './types.js';

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
}

/** One held record and its bookkeeping. */
export interface HeldRecord {
  record: SignedRecord;
  /** Hex ID of the node that stored it (charged against its quota). */
  source: string;
  /** Wall time it was last stored or refreshed. */
  storedAt: number;
}

interface KeySet {
  key: Uint8Array;
  byAuthor: Map<string, HeldRecord>;
}

/** Bounded, verified 1-to-many record storage. */
export class RecordStore {
  private readonly sets = new Map<string, KeySet>();
  private readonly perSource = new Map<string, number>();
  private total = 0;
  private readonly maxRecords: number;
  private readonly maxPerKey: number;
  private readonly maxPerSource: number;
  /** Furthest expiry accepted, ms ahead of now. */
  readonly maxTtlMs: number;

  constructor(private readonly options: RecordStoreOptions) {
    this.maxRecords = options.maxRecords ?? 20_000;
    this.maxPerKey = options.maxPerKey ?? 1_000;
    this.maxPerSource = options.maxPerSource ?? 1_000;
    this.maxTtlMs = options.maxTtlMs ?? 48 * 3600_000;
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

  /**
   * Verifies and stores `record` under `key`, charged to `source` (hex node ID of the
   * sender). Never throws: bad input is refused with a reason.
   */
  put(key: Uint8Array, record: SignedRecord, source: string): StoreResult {
    const now = this.options.wallClock();
    const problem = checkRecord(this.options.suite, record, key, now, this.maxTtlMs);
    if (problem === 'expired') return { ok: false, reason: 'expired' };
    if (problem !== null) return { ok: false, reason: 'invalid' };
    const keyHex = bytesToHex(key);
    const author = authorKey(record);
    let set = this.sets.get(keyHex);
    const held = set?.byAuthor.get(author);
    if (held !== undefined) {
      if (held.record.expiresAt <= now) {
        this.removeHeld(keyHex, set!, author, held);
        return this.put(key, record, source);
      }
      if (sameRecord(held.record, record)) {
        held.storedAt = now;
        return { ok: true };
      }
      if (!supersedes(record, held.record)) return { ok: false, reason: 'stale' };
      if (held.source !== source) {
        if (this.sourceCount(source) >= this.maxPerSource) return { ok: false, reason: 'limit' };
        this.charge(held.source, -1);
        this.charge(source, 1);
      }
      set!.byAuthor.set(author, { record: copyRecord(record), source, storedAt: now });
      return { ok: true };
    }
    if (this.total >= this.maxRecords) this.sweep();
    if (this.total >= this.maxRecords || this.sourceCount(source) >= this.maxPerSource) return { ok: false, reason: 'limit' };
    if (set !== undefined && set.byAuthor.size >= this.maxPerKey) {
      // The author a mutable key names must always fit: evict an open-set record for it.
      if (!isBoundMutable(this.options.suite, record) || !this.evictOneFrom(keyHex, set)) return { ok: false, reason: 'limit' };
    }
    if (set === undefined) {
      set = { key: Uint8Array.from(key), byAuthor: new Map() };
      this.sets.set(keyHex, set);
    }
    set.byAuthor.set(author, { record: copyRecord(record), source, storedAt: now });
    this.total++;
    this.charge(source, 1);
    return { ok: true };
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

  private evictOneFrom(keyHex: string, set: KeySet): boolean {
    let victim: [string, HeldRecord] | undefined;
    for (const entry of set.byAuthor) {
      if (isBoundMutable(this.options.suite, entry[1].record)) continue;
      if (victim === undefined || entry[1].record.expiresAt < victim[1].record.expiresAt) victim = entry;
    }
    if (victim === undefined) return false;
    this.removeHeld(keyHex, set, victim[0], victim[1]);
    return true;
  }

  private removeHeld(keyHex: string, set: KeySet, author: string, held: HeldRecord): void {
    set.byAuthor.delete(author);
    if (set.byAuthor.size === 0) this.sets.delete(keyHex);
    this.total--;
    this.charge(held.source, -1);
  }

  private charge(source: string, delta: number): void {
    const next = (this.perSource.get(source) ?? 0) + delta;
    if (next <= 0) this.perSource.delete(source);
    else this.perSource.set(source, next);
  }
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
