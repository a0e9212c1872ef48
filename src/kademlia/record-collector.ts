/**
 * What a read (`get`, `getRecords`) has gathered so far: each author's latest valid record
 * under the key, and the set sizes of the holders that answered, for the quorum. Only the
 * most complete holders count towards the quorum: a node that just became a holder (after
 * churn) may have only a few of the key's records, and three of those must not end a
 * 1-to-many read.
 */
import type { CryptoSuite } from '../crypto/types.js';
import { authorKey, checkRecord, isBoundMutable, isImmutable, supersedes } from './record.js';
import type { SignedRecord } from './types.js';
import { equalBytes } from '../util/bytes.js';

/** What the collector checks records against. */
export interface RecordCollectorOptions {
  suite: CryptoSuite;
  key: Uint8Array;
  /** A single-value read: other authors' records are ignored, and an immutable record ends the read. */
  singleValue: boolean;
  /** Most records per key considered from one answer. */
  maxPerKey: number;
  maxTtlMs: number;
  /** Wall-clock now, ms (record expiry). */
  wallNow: () => number;
}

/** Merges the records of a read's answers. */
export class RecordCollector {
  private readonly found = new Map<string, SignedRecord>();
  private immutableFound = false;
  private readonly sizes: number[] = [];
  private largest = 0;

  constructor(private readonly options: RecordCollectorOptions) {}

  /** Merges one holder's records; true when any was valid (new, or the same as one already verified). */
  merge(records: SignedRecord[]): boolean {
    const { suite, key, singleValue, maxTtlMs } = this.options;
    let any = false;
    const now = this.options.wallNow();
    const limit = Math.min(records.length, this.options.maxPerKey);
    for (let i = 0; i < limit; i++) {
      const record = records[i];
      if (record === null || typeof record !== 'object' || !(record.author instanceof Uint8Array)) continue;
      const author = authorKey(record);
      const known = this.found.get(author);
      // An identical record was verified already; skip the signature check.
      if (known !== undefined && known.seq === record.seq && known.expiresAt === record.expiresAt && equalBytes(known.signature, record.signature)) {
        any = true;
        continue;
      }
      if (known !== undefined && !supersedes(record, known)) continue;
      // A single-value read ignores other authors' records: they must not count towards the quorum.
      if (singleValue && !isImmutable(record) && !isBoundMutable(suite, record)) continue;
      if (checkRecord(suite, record, key, now, maxTtlMs) !== null) continue;
      this.found.set(author, record);
      any = true;
      if (isImmutable(record)) this.immutableFound = true;
    }
    return any;
  }

  /** Counts a holder that answered with valid records and holds `size` of them in all. */
  countHolder(size: number): void {
    this.sizes.push(size);
    this.largest = Math.max(this.largest, size);
  }

  /** Holders with the largest set seen, towards the quorum. */
  get counted(): number {
    return this.sizes.reduce((n, size) => (size >= this.largest ? n + 1 : n), 0);
  }

  /** True once a single-value read found its immutable record. */
  get done(): boolean {
    return this.options.singleValue && this.immutableFound;
  }

  /** The records gathered, one per author. */
  records(): SignedRecord[] {
    return [...this.found.values()];
  }
}
