/**
 * The Kademlia routing table: 256 k-buckets indexed by the common-prefix length of a
 * contact's position with ours (equivalent to a fully split bucket tree). Each bucket
 * keeps least-recently-seen first; a full bucket parks newcomers in a replacement cache
 * and asks the caller to ping its oldest entry, which is evicted only if that ping fails.
 */
import type { Clock } from '../util/clock.js';
import { commonPrefixLength, compareDistance, sameId } from './keyspace.js';
import { subnetGroup } from './subnet.js';
import { ID_LENGTH, type Contact } from './types.js';

/** One contact in the table. */
export interface TableEntry {
  contact: Contact;
  /** SHA-256 of the contact's ID. */
  position: Uint8Array;
  /** Clock time of the last authenticated message from it. */
  lastSeen: number;
  /** Consecutive failed requests since it was last seen. */
  failures: number;
  /** Subnet group of its address (see subnetGroup), cached for the diversity rule. */
  group: string | number | undefined;
}

/** Routing-table parameters. */
export interface RoutingTableOptions {
  /** Our own position (SHA-256 of our node ID). */
  self: Uint8Array;
  clock: Clock;
  /** Bucket size. Default 20. */
  k?: number;
  /** Replacement-cache size per bucket. Default k. */
  replacements?: number;
  /** Most contacts of one IPv4 /24 or IPv6 /48 per bucket (loopback and LAN exempt). Default 2. */
  maxPerSubnet?: number;
  /** Consecutive request failures after which a contact is dropped. Default 2. */
  maxFailures?: number;
  /** A full bucket pings its oldest entry only if that entry was silent this long, ms; fresher ones are known alive. Default 60 s. */
  pingAfterMs?: number;
}

/** What {@link RoutingTable.observe} did. `ping` asks the caller to ping `stale` and report back. */
export type ObserveOutcome =
  | { kind: 'updated' | 'added' | 'replacement' | 'rejected' }
  | { kind: 'ping'; stale: TableEntry };

class Bucket {
  readonly entries: TableEntry[] = [];
  readonly replacements: TableEntry[] = [];
  /** The entry whose liveness ping is in flight, if any. */
  pinging: TableEntry | undefined;
}

/** k-buckets over XOR distance of hashed node IDs. */
export class RoutingTable {
  readonly k: number;
  private readonly buckets: (Bucket | undefined)[] = new Array(ID_LENGTH * 8);
  /** Clock time of the last lookup into each bucket's range or new entry there (drives refresh). */
  private readonly touched = new Float64Array(ID_LENGTH * 8);
  private readonly replacementSize: number;
  private readonly maxPerSubnet: number;
  private readonly maxFailures: number;
  private count = 0;

  constructor(private readonly options: RoutingTableOptions) {
    this.k = options.k ?? 20;
    this.replacementSize = options.replacements ?? this.k;
    this.maxPerSubnet = options.maxPerSubnet ?? 2;
    this.maxFailures = options.maxFailures ?? 2;
    this.touched.fill(options.clock.now());
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
    if (index >= ID_LENGTH * 8) return { kind: 'rejected' }; // ourselves
    const now = this.options.clock.now();
    let bucket = this.buckets[index];
    if (bucket === undefined) bucket = this.buckets[index] = new Bucket();
    const at = findEntry(bucket.entries, contact.id);
    if (at >= 0) {
      const entry = bucket.entries[at]!;
      bucket.entries.splice(at, 1);
      bucket.entries.push(entry);
      entry.lastSeen = now;
      entry.failures = 0;
      if (!sameAddressOf(entry.contact, contact)) {
        const group = subnetGroup(contact.address.host);
        if (this.subnetAllows(bucket.entries, group, entry)) {
          entry.contact = copyContact(contact);
          entry.group = group;
        }
      }
      return { kind: 'updated' };
    }
    const group = subnetGroup(contact.address.host);
    if (!this.subnetAllows(bucket.entries, group, undefined)) return { kind: 'rejected' };
    const entry: TableEntry = { contact: copyContact(contact), position, lastSeen: now, failures: 0, group };
    if (bucket.entries.length < this.k) {
      bucket.entries.push(entry);
      this.touched[index] = now;
      this.count++;
      removeEntry(bucket.replacements, contact.id);
      return { kind: 'added' };
    }
    this.addReplacement(bucket, entry);
    if (bucket.pinging !== undefined || now - bucket.entries[0]!.lastSeen < (this.options.pingAfterMs ?? 60_000)) return { kind: 'replacement' };
    bucket.pinging = bucket.entries[0]!;
    return { kind: 'ping', stale: bucket.pinging };
  }

  /**
   * Result of the liveness ping the table asked for: a live contact moves to the
   * most-recent end; a dead one is evicted and the freshest replacement takes its place.
   */
  pingResult(stale: TableEntry, alive: boolean): void {
    const bucket = this.buckets[this.bucketIndex(stale.position)];
    if (bucket === undefined) return;
    if (bucket.pinging === stale) bucket.pinging = undefined;
    if (alive) {
      const at = bucket.entries.indexOf(stale);
      if (at >= 0) {
        bucket.entries.splice(at, 1);
        bucket.entries.push(stale);
        stale.lastSeen = this.options.clock.now();
        stale.failures = 0;
      }
      return;
    }
    this.evict(bucket, stale);
  }

  /** A request to `id` failed (timeout); after `maxFailures` in a row the contact is dropped. */
  recordFailure(id: Uint8Array, position: Uint8Array): void {
    const bucket = this.buckets[this.bucketIndex(position)];
    if (bucket === undefined) return;
    const at = findEntry(bucket.entries, id);
    if (at < 0) return;
    const entry = bucket.entries[at]!;
    if (++entry.failures >= this.maxFailures) this.evict(bucket, entry);
  }

  /** A request to `id` succeeded: clears its failure count. */
  recordSuccess(id: Uint8Array, position: Uint8Array): void {
    const bucket = this.buckets[this.bucketIndex(position)];
    const at = bucket === undefined ? -1 : findEntry(bucket.entries, id);
    if (at >= 0) bucket!.entries[at]!.failures = 0;
  }

  /** Removes a contact (and promotes a replacement). Returns whether it was present. */
  remove(id: Uint8Array, position: Uint8Array): boolean {
    const bucket = this.buckets[this.bucketIndex(position)];
    const at = bucket === undefined ? -1 : findEntry(bucket.entries, id);
    if (at < 0) return false;
    this.evict(bucket!, bucket!.entries[at]!);
    return true;
  }

  /** True when the contact is in a bucket. */
  has(id: Uint8Array, position: Uint8Array): boolean {
    const bucket = this.buckets[this.bucketIndex(position)];
    return bucket !== undefined && findEntry(bucket.entries, id) >= 0;
  }

  /**
   * The `count` contacts closest to `target`, nearest first. Walks buckets outward from
   * the target's bucket instead of sorting the whole table: entries of bucket b = cpl(self,
   * target) are closest, then all deeper buckets (they share exactly b bits with the
   * target), then buckets b-1, b-2, ... in order.
   */
  closest(target: Uint8Array, count: number, exclude?: Uint8Array): TableEntry[] {
    const out: TableEntry[] = [];
    const b = Math.min(this.bucketIndex(target), ID_LENGTH * 8 - 1);
    this.appendSorted(out, [b], target, count, exclude);
    if (out.length < count) {
      const deeper: number[] = [];
      for (let i = b + 1; i < ID_LENGTH * 8; i++) if (this.buckets[i] !== undefined) deeper.push(i);
      this.appendSorted(out, deeper, target, count, exclude);
    }
    for (let i = b - 1; i >= 0 && out.length < count; i--) this.appendSorted(out, [i], target, count, exclude);
    return out;
  }

  private appendSorted(out: TableEntry[], indices: number[], target: Uint8Array, count: number, exclude?: Uint8Array): void {
    const group: TableEntry[] = [];
    for (const i of indices) {
      const bucket = this.buckets[i];
      if (bucket === undefined) continue;
      for (const entry of bucket.entries) if (exclude === undefined || !sameId(entry.contact.id, exclude)) group.push(entry);
    }
    if (group.length === 0) return;
    group.sort((x, y) => compareDistance(x.position, y.position, target));
    for (const entry of group) {
      if (out.length >= count) return;
      out.push(entry);
    }
  }

  /** Every contact, bucket by bucket (for snapshots and diagnostics). */
  *entries(): IterableIterator<TableEntry> {
    for (const bucket of this.buckets) if (bucket !== undefined) yield* bucket.entries;
  }

  /** Contacts of one bucket, least-recently-seen first (a copy). */
  bucketEntries(index: number): TableEntry[] {
    return [...(this.buckets[index]?.entries ?? [])];
  }

  /** Replacement cache of one bucket, oldest first (a copy). */
  bucketReplacements(index: number): TableEntry[] {
    return [...(this.buckets[index]?.replacements ?? [])];
  }

  /** Marks the bucket holding `target` as just refreshed (a lookup went there). */
  touch(target: Uint8Array): void {
    this.touched[Math.min(this.bucketIndex(target), ID_LENGTH * 8 - 1)] = this.options.clock.now();
  }

  /**
   * Bucket indices due for refresh: not touched for `intervalMs`. Only buckets up to one
   * past the deepest non-empty one matter; deeper ranges are empty in any network size.
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
    for (let i = 0; i <= Math.min(deepest + 1, this.buckets.length - 1); i++) if (now - this.touched[i]! >= intervalMs) out.push(i);
    return out;
  }

  private subnetAllows(entries: TableEntry[], group: string | number | undefined, skip: TableEntry | undefined): boolean {
    if (group === undefined) return true;
    let same = 0;
    for (const entry of entries) {
      if (entry !== skip && entry.group === group && ++same >= this.maxPerSubnet) return false;
    }
    return true;
  }

  private addReplacement(bucket: Bucket, entry: TableEntry): void {
    removeEntry(bucket.replacements, entry.contact.id);
    if (!this.subnetAllows(bucket.replacements, entry.group, undefined)) return;
    bucket.replacements.push(entry);
    if (bucket.replacements.length > this.replacementSize) bucket.replacements.shift();
  }

  private evict(bucket: Bucket, entry: TableEntry): void {
    const at = bucket.entries.indexOf(entry);
    if (at < 0) return;
    bucket.entries.splice(at, 1);
    this.count--;
    if (bucket.pinging === entry) bucket.pinging = undefined;
    // Freshest replacement first: it was seen most recently, so it is the likeliest alive.
    for (let i = bucket.replacements.length - 1; i >= 0; i--) {
      const candidate = bucket.replacements[i]!;
      if (!this.subnetAllows(bucket.entries, candidate.group, undefined)) continue;
      bucket.replacements.splice(i, 1);
      bucket.entries.push(candidate);
      this.count++;
      return;
    }
  }
}

function findEntry(entries: TableEntry[], id: Uint8Array): number {
  for (let i = 0; i < entries.length; i++) if (sameId(entries[i]!.contact.id, id)) return i;
  return -1;
}

function removeEntry(entries: TableEntry[], id: Uint8Array): void {
  const at = findEntry(entries, id);
  if (at >= 0) entries.splice(at, 1);
}

function sameAddressOf(a: Contact, b: Contact): boolean {
  return a.address.port === b.address.port && a.address.host === b.address.host;
}

/** The table keeps its own copy: callers' objects may be reused or mutated by the codec. */
function copyContact(contact: Contact): Contact {
  return { id: Uint8Array.from(contact.id), address: { host: contact.address.host, port: contact.address.port } };
}
