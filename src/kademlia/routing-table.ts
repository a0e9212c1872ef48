/**
 * The Kademlia routing table: 256 k-buckets indexed by the common-prefix length of a
 * contact's position with ours (equivalent to a fully split bucket tree). Each bucket
 * keeps least-recently-seen first; a full bucket parks newcomers in a replacement cache
 * and asks the caller to ping its oldest entry, which is evicted only if that ping fails.
 *
 * Buckets store their contacts column-wise (contact-slab.ts) so a table costs ~90 bytes
 * per contact; {@link TableEntry} objects and Contacts are built only on the way out.
 */
import { ContactSlab } from './contact-slab.js';
import { INDEX_SPAN, comparePacked, growKeys, idAt } from './packed-distance.js';
import { commonPrefixLength, sameId } from './keyspace.js';
import { subnetGroup } from './subnet.js';
import type { ContactEncoder, ObserveOutcome, RoutingTableOptions, TableEntry } from './routing-types.js';
import { ID_LENGTH, type Contact } from './types.js';

export type { ContactEncoder, ObserveOutcome, RoutingTableOptions, TableEntry } from './routing-types.js';

/** Scratch of appendSorted (synchronous, so one set per process suffices). */
let sortKeys: Float64Array = new Float64Array(256);
const sortBuckets: Bucket[] = [];
const sortSlots: number[] = [];

class Bucket {
  readonly entries: ContactSlab;
  replacements: ContactSlab | undefined;
  /** ID of the entry whose liveness ping is in flight, if any. */
  pinging: Uint8Array | undefined;
  constructor(k: number) {
    this.entries = new ContactSlab(k);
  }
}

const BUCKETS = ID_LENGTH * 8;
const DEFAULT_WIDE_BUCKETS: readonly number[] = [8, 4, 2];

/** k-buckets over XOR distance of hashed node IDs. */
export class RoutingTable {
  readonly k: number;
  private readonly buckets: (Bucket | undefined)[] = [];
  /** Clock time of the last lookup into each bucket's range or new entry there (drives refresh); grows with the deepest bucket. */
  private touched: number[] = [];
  private readonly created: number;
  private readonly replacementSize: number;
  private readonly wide: readonly number[];
  private readonly maxPerSubnet: number;
  private readonly maxFailures: number;
  private count = 0;
  /** The encoder whose results the slabs' memos hold (one per table in practice). */
  private memoEncoder: ContactEncoder<unknown> | undefined;

  constructor(private readonly options: RoutingTableOptions) {
    this.k = options.k ?? 20;
    this.replacementSize = options.replacements ?? this.k;
    this.wide = options.wideBuckets ?? DEFAULT_WIDE_BUCKETS;
    this.maxPerSubnet = options.maxPerSubnet ?? 2;
    this.maxFailures = options.maxFailures ?? 2;
    this.created = options.clock.now();
  }

  /**
   * Room of bucket `index`: k, times {@link RoutingTableOptions.wideBuckets}`[index]` for the
   * first few. The shallow buckets cover half, a quarter, ... of the whole network, so more
   * contacts there start every lookup several bits closer to its target (libtorrent's
   * "extended routing table" does the same), for a few KB per node.
   */
  capacity(index: number): number {
    return this.k * (this.wide[index] ?? 1);
  }

  /** Number of contacts in the buckets (replacement caches excluded). */
  get size(): number {
    return this.count;
  }

  /** Bucket index of a position: its common-prefix length with ours (256 = ourselves). */
  bucketIndex(position: Uint8Array): number {
    return commonPrefixLength(this.options.self, position);
  }

  /**
   * Records an authenticated message from `contact` (the caller guarantees authentication
   * and that the sender is not in client mode). Known contacts move to the most-recent end;
   * new ones go in if there is room, else into the replacement cache.
   */
  observe(contact: Contact, position: Uint8Array): ObserveOutcome {
    const index = this.bucketIndex(position);
    if (index >= BUCKETS) return { kind: 'rejected' }; // ourselves
    const now = this.options.clock.now();
    let bucket = this.buckets[index];
    if (bucket === undefined) {
      while (this.buckets.length < index) this.buckets.push(undefined);
      bucket = this.buckets[index] = new Bucket(this.capacity(index));
    }
    const entries = bucket.entries;
    const at = entries.indexOf(contact.id);
    if (at >= 0) {
      const moved = entries.moveToEnd(at);
      entries.touch(moved, now);
      const { host, port } = contact.address;
      if (entries.port(moved) !== port || entries.host(moved) !== host) {
        const group = subnetGroup(host);
        if (this.subnetAllows(entries, group, moved)) entries.setAddress(moved, host, port, group);
      }
      return { kind: 'updated' };
    }
    const group = subnetGroup(contact.address.host);
    if (!this.subnetAllows(entries, group, -1)) return { kind: 'rejected' };
    if (entries.length < this.capacity(index)) {
      entries.push(contact.id, position, contact.address.host, contact.address.port, group, now);
      this.setTouched(index, now);
      this.count++;
      const r = bucket.replacements?.indexOf(contact.id) ?? -1;
      if (r >= 0) bucket.replacements!.removeAt(r);
      return { kind: 'added' };
    }
    this.addReplacement(bucket, contact, position, group, now);
    if (bucket.pinging !== undefined || now - entries.lastSeen(0) < (this.options.pingAfterMs ?? 60_000)) return { kind: 'replacement' };
    bucket.pinging = entries.idView(0).slice();
    return { kind: 'ping', stale: this.entryOf(entries, 0) };
  }

  /**
   * Result of the liveness ping the table asked for: a live contact moves to the
   * most-recent end; a dead one is evicted and the freshest replacement takes its place.
   */
  pingResult(stale: TableEntry, alive: boolean): void {
    const bucket = this.buckets[this.bucketIndex(stale.position)];
    if (bucket === undefined) return;
    if (bucket.pinging !== undefined && sameId(bucket.pinging, stale.contact.id)) bucket.pinging = undefined;
    const at = bucket.entries.indexOf(stale.contact.id);
    if (at < 0) return;
    if (alive) {
      bucket.entries.touch(bucket.entries.moveToEnd(at), this.options.clock.now());
      return;
    }
    this.evict(bucket, at);
  }

  /** A request to `id` failed (timeout); after `maxFailures` in a row the contact is dropped. */
  recordFailure(id: Uint8Array, position: Uint8Array): void {
    const bucket = this.buckets[this.bucketIndex(position)];
    const at = bucket === undefined ? -1 : bucket.entries.indexOf(id);
    if (at < 0) return;
    if (bucket!.entries.fail(at) >= this.maxFailures) this.evict(bucket!, at);
  }

  /** A request to `id` succeeded: clears its failure count. */
  recordSuccess(id: Uint8Array, position: Uint8Array): void {
    const bucket = this.buckets[this.bucketIndex(position)];
    const at = bucket === undefined ? -1 : bucket.entries.indexOf(id);
    if (at >= 0) bucket!.entries.touch(at, bucket!.entries.lastSeen(at));
  }

  /** Removes a contact (and promotes a replacement). Returns whether it was present. */
  remove(id: Uint8Array, position: Uint8Array): boolean {
    const bucket = this.buckets[this.bucketIndex(position)];
    const at = bucket === undefined ? -1 : bucket.entries.indexOf(id);
    if (at < 0) return false;
    this.evict(bucket!, at);
    return true;
  }

  /** True when the contact is in a bucket. */
  has(id: Uint8Array, position: Uint8Array): boolean {
    const bucket = this.buckets[this.bucketIndex(position)];
    return bucket !== undefined && bucket.entries.indexOf(id) >= 0;
  }

  /** The `count` contacts closest to `target`, nearest first, as entries (see {@link RoutingTable.closestContacts}). */
  closest(target: Uint8Array, count: number, exclude?: Uint8Array): TableEntry[] {
    return this.select(target, count, exclude).map(([bucket, slot]) => this.entryOf(bucket.entries, slot));
  }

  /**
   * The `count` contacts closest to `target`, nearest first, as fresh Contact objects.
   * Walks buckets outward from the target's bucket instead of sorting the whole table:
   * entries of bucket b = cpl(self, target) are closest, then all deeper buckets (they
   * share exactly b bits with the target), then buckets b-1, b-2, ... in order.
   */
  closestContacts(target: Uint8Array, count: number, exclude?: Uint8Array): Contact[] {
    return this.select(target, count, exclude).map(([bucket, slot]) => this.contactOf(bucket.entries, slot));
  }

  /**
   * Like {@link RoutingTable.closestContacts}, but each contact as `encode` makes it, once per
   * table entry: the result is kept next to the entry (bounded by the table itself) until the
   * entry's address changes or it leaves. Contacts `encode` rejects (null) are skipped.
   */
  closestEncoded<T>(target: Uint8Array, count: number, exclude: Uint8Array | undefined, encode: ContactEncoder<T>): T[] {
    if (this.memoEncoder !== encode) {
      for (const bucket of this.buckets) bucket?.entries.clearMemos();
      this.memoEncoder = encode;
    }
    const out: T[] = [];
    for (const [bucket, slot] of this.select(target, count, exclude)) {
      const slab = bucket.entries;
      let encoded = slab.memo(slot) as T | null | undefined;
      if (encoded === undefined) {
        encoded = encode(slab.idView(slot), slab.host(slot), slab.port(slot));
        slab.setMemo(slot, encoded);
      }
      if (encoded !== null) out.push(encoded);
    }
    return out;
  }

  private select(target: Uint8Array, count: number, exclude?: Uint8Array): Array<[Bucket, number]> {
    const out: Array<[Bucket, number]> = [];
    const b = Math.min(this.bucketIndex(target), BUCKETS - 1);
    this.appendSorted(out, [b], target, count, exclude);
    if (out.length < count) {
      const deeper: number[] = [];
      for (let i = b + 1; i < this.buckets.length; i++) if (this.buckets[i] !== undefined) deeper.push(i);
      this.appendSorted(out, deeper, target, count, exclude);
    }
    for (let i = b - 1; i >= 0 && out.length < count; i--) this.appendSorted(out, [i], target, count, exclude);
    return out;
  }

  /**
   * Appends the entries of buckets `indices`, nearest to `target` first, until `out` holds
   * `count`. Sort keys are the first 32 bits of the XOR distance, packed with the entry's
   * index into one double and sorted as a Float64Array (native numeric sort, no comparator
   * calls, no tuple per entry); the rare ties on 32 bits are ordered on all 256 bits after.
   */
  private appendSorted(out: Array<[Bucket, number]>, indices: number[], target: Uint8Array, count: number, exclude?: Uint8Array): void {
    const buckets = sortBuckets;
    const slots = sortSlots;
    buckets.length = 0;
    slots.length = 0;
    const t0 = ((target[0] << 24) | (target[1] << 16) | (target[2] << 8) | target[3]) >>> 0;
    let n = 0;
    for (const i of indices) {
      const bucket = this.buckets[i];
      if (bucket === undefined) continue;
      const entries = bucket.entries;
      const bytes = entries.bytes;
      for (let slot = 0; slot < entries.length; slot++) {
        if (exclude !== undefined && idAt(bytes, entries.positionOffset(slot) - ID_LENGTH, exclude)) continue;
        const at = entries.positionOffset(slot);
        // The first 32 bits of the XOR distance order almost every pair; ties fall back to all 256.
        const key = (((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) ^ t0) >>> 0;
        if (n === sortKeys.length) sortKeys = growKeys(sortKeys);
        sortKeys[n] = key * INDEX_SPAN + n;
        buckets.push(bucket);
        slots.push(slot);
        n++;
      }
    }
    if (n === 0) return;
    const order = sortKeys.subarray(0, n);
    if (n > 1) order.sort();
    const take = Math.min(n, count - out.length);
    for (let i = 0; i < n && i < take;) {
      // A run of equal 32-bit keys (rare): order it on the full positions.
      let end = i + 1;
      const high = Math.floor(order[i] / INDEX_SPAN);
      while (end < n && Math.floor(order[end] / INDEX_SPAN) === high) end++;
      if (end - i > 1) {
        const run = Array.from(order.subarray(i, end), (packed) => packed % INDEX_SPAN);
        run.sort((x, y) =>
          comparePacked(
            buckets[x].entries.bytes,
            buckets[x].entries.positionOffset(slots[x]),
            buckets[y].entries.bytes,
            buckets[y].entries.positionOffset(slots[y]),
            target,
          ),
        );
        for (const index of run) if (out.length < count) out.push([buckets[index], slots[index]]);
      } else {
        out.push([buckets[order[i] % INDEX_SPAN], slots[order[i] % INDEX_SPAN]]);
      }
      i = end;
    }
    buckets.length = 0;
  }

  /** Every contact, bucket by bucket (for snapshots and diagnostics). */
  *entries(): IterableIterator<TableEntry> {
    for (const bucket of this.buckets) {
      if (bucket === undefined) continue;
      for (let slot = 0; slot < bucket.entries.length; slot++) yield this.entryOf(bucket.entries, slot);
    }
  }

  /** Contacts in bucket `index`. */
  bucketSize(index: number): number {
    return this.buckets[index]?.entries.length ?? 0;
  }

  /** Contacts of one bucket, least-recently-seen first (snapshots). */
  bucketEntries(index: number): TableEntry[] {
    const slab = this.buckets[index]?.entries;
    return slab === undefined ? [] : Array.from({ length: slab.length }, (_, slot) => this.entryOf(slab, slot));
  }

  /** Replacement cache of one bucket, oldest first (snapshots). */
  bucketReplacements(index: number): TableEntry[] {
    const slab = this.buckets[index]?.replacements;
    return slab === undefined ? [] : Array.from({ length: slab.length }, (_, slot) => this.entryOf(slab, slot));
  }

  /** Marks the bucket holding `target` as just refreshed (a lookup went there). */
  touch(target: Uint8Array): void {
    this.touchBucket(this.bucketIndex(target));
  }

  /**
   * Bucket indices due for refresh: for `intervalMs` no lookup went there, no contact joined
   * it and none of its contacts was heard from (BEP 5's "not changed"). Traffic keeps the
   * buckets of a busy node fresh, so refresh lookups run where the network is quiet, and
   * nodes that joined together do not all refresh every bucket at once. Only buckets up to
   * one past the deepest non-empty one matter; deeper ranges are empty in any network size.
   */
  staleBuckets(intervalMs: number): number[] {
    const now = this.options.clock.now();
    let deepest = -1;
    for (let i = this.buckets.length - 1; i >= 0; i--) {
      if ((this.buckets[i]?.entries.length ?? 0) > 0) {
        deepest = i;
        break;
      }
    }
    const out: number[] = [];
    for (let i = 0; i <= Math.min(deepest + 1, BUCKETS - 1); i++) {
      let fresh = this.touched[i] ?? this.created;
      const entries = this.buckets[i]?.entries;
      for (let slot = 0; entries !== undefined && slot < entries.length; slot++) fresh = Math.max(fresh, entries.lastSeen(slot));
      if (now - fresh >= intervalMs) out.push(i);
    }
    return out;
  }

  /**
   * First bucket of our neighbourhood: from it down, the buckets together hold fewer than `k`
   * contacts, all among the k nodes closest to us, so one lookup of our own position refreshes
   * every one of them. 0 when the whole table holds fewer than `k`.
   */
  neighbourhoodStart(k: number): number {
    let total = 0;
    for (let i = this.buckets.length - 1; i >= 0; i--) {
      total += this.buckets[i]?.entries.length ?? 0;
      if (total >= k) return i + 1;
    }
    return 0;
  }

  /** Marks bucket `index` as just refreshed. */
  touchBucket(index: number): void {
    this.setTouched(Math.min(index, BUCKETS - 1), this.options.clock.now());
  }

  private setTouched(index: number, now: number): void {
    while (this.touched.length < index) this.touched.push(this.created);
    this.touched[index] = now;
  }

  private entryOf(slab: ContactSlab, slot: number): TableEntry {
    return {
      contact: this.contactOf(slab, slot),
      position: slab.position(slot),
      lastSeen: slab.lastSeen(slot),
      failures: slab.failures(slot),
      group: slab.group(slot),
    };
  }

  private contactOf(slab: ContactSlab, slot: number): Contact {
    return slab.contact(slot);
  }

  private subnetAllows(slab: ContactSlab, group: string | number | undefined, skip: number): boolean {
    if (group === undefined) return true;
    let same = 0;
    for (let slot = 0; slot < slab.length; slot++) {
      if (slot !== skip && slab.group(slot) === group && ++same >= this.maxPerSubnet) return false;
    }
    return true;
  }

  private addReplacement(bucket: Bucket, contact: Contact, position: Uint8Array, group: string | number | undefined, now: number): void {
    const cache = (bucket.replacements ??= new ContactSlab(this.replacementSize + 1));
    const at = cache.indexOf(contact.id);
    if (at >= 0) cache.removeAt(at);
    if (!this.subnetAllows(cache, group, -1)) return;
    cache.push(contact.id, position, contact.address.host, contact.address.port, group, now);
    if (cache.length > this.replacementSize) cache.removeAt(0);
  }

  private evict(bucket: Bucket, slot: number): void {
    const entries = bucket.entries;
    if (bucket.pinging !== undefined && sameId(bucket.pinging, entries.idView(slot))) bucket.pinging = undefined;
    entries.removeAt(slot);
    this.count--;
    const cache = bucket.replacements;
    if (cache === undefined) return;
    // Freshest replacement first: it was seen most recently, so it is the likeliest alive.
    for (let i = cache.length - 1; i >= 0; i--) {
      if (!this.subnetAllows(entries, cache.group(i), -1)) continue;
      entries.pushFrom(cache, i);
      cache.removeAt(i);
      this.count++;
      return;
    }
  }
}
