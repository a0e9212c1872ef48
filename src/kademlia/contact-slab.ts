/**
 * An ordered list of contacts stored column-wise in typed arrays: IDs and positions
 * packed 64 bytes a slot, last-seen times, ports and failure counts. A routing table at
 * N = 10,000 holds some 250 contacts per node; as objects (entry, contact, address, a
 * copied ID array) each cost ~300 bytes of heap, packed ~90. Contact objects are built
 * only when the table answers (FIND_NODE, seeds), as fresh copies the caller may keep.
 */
import { ID_LENGTH, type Contact } from './types.js';

const SLOT = 2 * ID_LENGTH;
const FAILURE_SHIFT = 16;
/** Holds one slot while it moves (every authenticated message moves its sender: no allocation). */
const scratch = new Uint8Array(SLOT);

/** Column store of up to `limit` contacts in insertion order (the routing table keeps least-recently-seen first). */
export class ContactSlab {
  /** Contacts held. */
  length = 0;
  /** ID (bytes 0-31) and position (bytes 32-63) of each slot. */
  private data: Uint8Array;
  private seen: Float64Array;
  /** Port in the low 16 bits, consecutive failures above. */
  private meta: Uint32Array;
  private hosts: string[] = [];
  private groups: Array<string | number | undefined> = [];
  /** Per-slot value derived from ID and address (the wire encoding of the contact), cleared when the address changes. */
  private memos: unknown[] = [];

  constructor(
    private readonly limit: number,
    initial = Math.min(limit, 8),
  ) {
    this.data = new Uint8Array(initial * SLOT);
    this.seen = new Float64Array(initial);
    this.meta = new Uint32Array(initial);
  }

  /** Slot of the contact with this ID, or -1. */
  indexOf(id: Uint8Array): number {
    const data = this.data;
    outer: for (let i = 0; i < this.length; i++) {
      const base = i * SLOT;
      for (let j = 0; j < ID_LENGTH; j++) if (data[base + j] !== id[j]) continue outer;
      return i;
    }
    return -1;
  }

  /** Appends a contact (the caller checked there is room below the limit). Returns its slot. */
  push(id: Uint8Array, position: Uint8Array, host: string, port: number, group: string | number | undefined, lastSeen: number, failures = 0): number {
    if (this.length * SLOT >= this.data.length) this.grow();
    const i = this.length++;
    const data = this.data;
    const base = i * SLOT;
    // Byte loops: subarray views would allocate on this hot path.
    for (let j = 0; j < ID_LENGTH; j++) {
      data[base + j] = id[j]!;
      data[base + ID_LENGTH + j] = position[j]!;
    }
    this.seen[i] = lastSeen;
    this.meta[i] = (port & 0xffff) | (Math.min(failures, 255) << FAILURE_SHIFT);
    this.hosts[i] = host;
    this.groups[i] = group;
    this.memos[i] = undefined;
    return i;
  }

  /** Removes slot `i`, shifting later ones down (order is kept). */
  removeAt(i: number): void {
    const end = this.length;
    if (i < 0 || i >= end) return;
    this.data.copyWithin(i * SLOT, (i + 1) * SLOT, end * SLOT);
    this.seen.copyWithin(i, i + 1, end);
    this.meta.copyWithin(i, i + 1, end);
    this.hosts.splice(i, 1);
    this.groups.splice(i, 1);
    this.memos.splice(i, 1);
    this.length--;
  }

  /** Moves slot `i` to the end (most recently seen). Returns its new slot. */
  moveToEnd(i: number): number {
    const last = this.length - 1;
    if (i === last) return i;
    scratch.set(this.data.subarray(i * SLOT, (i + 1) * SLOT));
    const seen = this.seen[i];
    const meta = this.meta[i];
    const host = this.hosts[i];
    const group = this.groups[i];
    const memo = this.memos[i];
    this.removeAt(i);
    const at = this.length++;
    this.data.set(scratch, at * SLOT);
    this.seen[at] = seen;
    this.meta[at] = meta;
    this.hosts[at] = host;
    this.groups[at] = group;
    this.memos[at] = memo;
    return at;
  }

  /** A view of slot `i`'s ID: valid only until the slab changes (compare, never keep). */
  idView(i: number): Uint8Array {
    return this.data.subarray(i * SLOT, i * SLOT + ID_LENGTH);
  }

  /** Offset of slot `i`'s position in {@link ContactSlab.bytes} (for allocation-free distance sorts). */
  positionOffset(i: number): number {
    return i * SLOT + ID_LENGTH;
  }

  /** The packed storage (IDs and positions); read-only use. */
  get bytes(): Uint8Array {
    return this.data;
  }

  /** A fresh copy of slot `i`'s position. */
  position(i: number): Uint8Array {
    return this.data.slice(i * SLOT + ID_LENGTH, (i + 1) * SLOT);
  }

  /** A fresh Contact for slot `i` (its own ID array and address object). */
  contact(i: number): Contact {
    return { id: this.data.slice(i * SLOT, i * SLOT + ID_LENGTH), address: { host: this.hosts[i], port: this.meta[i] & 0xffff } };
  }

  /** Host of slot `i`'s address. */
  host(i: number): string {
    return this.hosts[i];
  }

  /** Port of slot `i`'s address. */
  port(i: number): number {
    return this.meta[i] & 0xffff;
  }

  /** Subnet group of slot `i` (see subnet.ts). */
  group(i: number): string | number | undefined {
    return this.groups[i];
  }

  /** Clock time slot `i` was last heard from. */
  lastSeen(i: number): number {
    return this.seen[i];
  }

  /** Consecutive failed requests to slot `i`. */
  failures(i: number): number {
    return this.meta[i] >>> FAILURE_SHIFT;
  }

  /** Marks slot `i` as just heard from: failures cleared. */
  touch(i: number, now: number): void {
    this.seen[i] = now;
    this.meta[i] = this.meta[i] & 0xffff;
  }

  /** Counts one more failure of slot `i`; returns the new count. */
  fail(i: number): number {
    const failures = Math.min(255, this.failures(i) + 1);
    this.meta[i] = (this.meta[i] & 0xffff) | (failures << FAILURE_SHIFT);
    return failures;
  }

  /** The contact at slot `i` moved: new address and subnet group. */
  setAddress(i: number, host: string, port: number, group: string | number | undefined): void {
    this.memos[i] = undefined;
    this.hosts[i] = host;
    this.groups[i] = group;
    this.meta[i] = (this.meta[i] & ~0xffff) | (port & 0xffff);
  }

  /** The value last stored with {@link ContactSlab.setMemo} for slot `i`; undefined when none or its address changed since. */
  memo(i: number): unknown {
    return this.memos[i];
  }

  /** Stores a value derived from slot `i`'s ID and address (kept while both stay the same). */
  setMemo(i: number, value: unknown): void {
    this.memos[i] = value;
  }

  /** Forgets every slot's memo. */
  clearMemos(): void {
    this.memos.fill(undefined);
  }

  /** Copies slot `i` of `from` to the end of this slab. */
  pushFrom(from: ContactSlab, i: number): number {
    return this.push(
      from.idView(i),
      from.data.subarray(from.positionOffset(i), from.positionOffset(i) + ID_LENGTH),
      from.hosts[i],
      from.port(i),
      from.groups[i],
      from.seen[i],
      from.failures(i),
    );
  }

  private grow(): void {
    const capacity = Math.min(this.limit, Math.max(4, this.seen.length * 2));
    if (capacity <= this.seen.length) throw new RangeError('ContactSlab full');
    const data = new Uint8Array(capacity * SLOT);
    data.set(this.data);
    const seen = new Float64Array(capacity);
    seen.set(this.seen);
    const meta = new Uint32Array(capacity);
    meta.set(this.meta);
    this.data = data;
    this.seen = seen;
    this.meta = meta;
  }
}
