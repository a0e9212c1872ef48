/**
 * What a live watch knows and has reported: the newest verified record of each author under
 * the key, and the providers the consumer was told about. Records from lookups and pushes
 * go through one place, ordered by sequence number, so a push and a lookup answer that
 * overlap (or arrive in any order, or three times from three holders) yield each event once.
 */
import { authorKey, supersedes } from '../kademlia/record.js';
import type { SignedRecord } from '../kademlia/types.js';
import { providerFromRecord, type Provider } from './provider-record.js';
import type { WatchEvent } from './watch.js';

/** The provider set one watch follows; emits `added` / `updated` / `removed` as records change it. */
export class WatchedProviders {
  /** Newest record seen per author (live or withdrawal). */
  private readonly latest = new Map<string, SignedRecord>();
  /** Providers reported to the consumer, by node ID. */
  private readonly current = new Map<string, Provider>();
  /** Authors a push updated since the running resync started (its lookup answer may predate them). */
  private readonly touched = new Set<string>();

  constructor(private readonly emit: (event: WatchEvent) => void) {}

  /** The provider the consumer was last told about for `author` (hex node ID), if any. */
  shown(author: string): Provider | undefined {
    return this.current.get(author);
  }

  /** A resync's lookup starts: pushes from now on win over its answer. */
  beginResync(): void {
    this.touched.clear();
  }

  /**
   * A fresh lookup's providers: applied, and every reported provider it lacks (and no push
   * renewed meanwhile) is removed.
   */
  applySnapshot(providers: Provider[], now: number): void {
    const seen = new Set<string>();
    for (const provider of providers) {
      seen.add(provider.id);
      this.apply(provider.record, now);
    }
    for (const [id, provider] of [...this.current]) {
      if (seen.has(id) || this.touched.has(id)) continue;
      this.current.delete(id);
      // Forgotten as well: a lookup that missed it must not make its next appearance look stale.
      if (this.latest.get(id)?.withdrawn !== true) this.latest.delete(id);
      this.emit({ type: 'removed', provider });
    }
  }

  /** A verified pushed record; false (and nothing changes) when it is not newer than what is known. */
  applyPushed(record: SignedRecord, now: number): boolean {
    const author = authorKey(record);
    const known = this.latest.get(author);
    if (known !== undefined && !supersedes(record, known)) return false;
    this.touched.add(author);
    this.apply(record, now);
    return true;
  }

  /** Applies a verified record (seq order decides) and emits what it changed. */
  private apply(record: SignedRecord, now: number): void {
    const author = authorKey(record);
    const known = this.latest.get(author);
    if (known !== undefined && known !== record && !supersedes(record, known) && !sameRecord(known, record)) return;
    this.latest.set(author, record);
    const shown = this.current.get(author);
    const provider = providerFromRecord(record, now);
    if (provider === null) {
      if (shown !== undefined) {
        this.current.delete(author);
        this.emit({ type: 'removed', provider: shown });
      }
      return;
    }
    this.current.set(author, provider);
    if (shown === undefined) this.emit({ type: 'added', provider });
    else if (Buffer.compare(shown.record.value, record.value) !== 0) this.emit({ type: 'updated', provider });
  }
}

function sameRecord(a: SignedRecord, b: SignedRecord): boolean {
  return a.seq === b.seq && a.expiresAt === b.expiresAt && Buffer.compare(a.signature, b.signature) === 0;
}
