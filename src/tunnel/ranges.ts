/**
 * A set of half-open integer ranges [start, end), kept sorted and merged. Used for
 * received packet numbers, acknowledged stream bytes and stream bytes to retransmit.
 * Appending at the top (the common case) is O(1).
 */
export class RangeSet {
  /** Flat [start0, end0, start1, end1, ...], ascending, non-overlapping, non-adjacent. */
  private r: number[] = [];

  /** Number of disjoint ranges. */
  get count(): number {
    return this.r.length / 2;
  }

  /** True when the set is empty. */
  get empty(): boolean {
    return this.r.length === 0;
  }

  /** Start of the lowest range (undefined when empty). */
  get min(): number | undefined {
    return this.r[0];
  }

  /** End (exclusive) of the highest range (undefined when empty). */
  get max(): number | undefined {
    return this.r[this.r.length - 1];
  }

  /** Start and end of range `i` (ascending). */
  range(i: number): [number, number] {
    return [this.r[2 * i], this.r[2 * i + 1]];
  }

  /** True when `value` is in the set. */
  has(value: number): boolean {
    const r = this.r;
    for (let i = r.length - 2; i >= 0; i -= 2) {
      if (value >= r[i + 1]) return false;
      if (value >= r[i]) return true;
    }
    return false;
  }

  /** Adds [start, end). */
  add(start: number, end: number): void {
    if (end <= start) return;
    const r = this.r;
    const n = r.length;
    if (n === 0 || start > r[n - 1]) {
      r.push(start, end);
      return;
    }
    if (start >= r[n - 2]) {
      if (end > r[n - 1]) r[n - 1] = end;
      return;
    }
    // General case: find the first range whose end >= start, merge everything overlapping.
    let i = 0;
    while (i < n && r[i + 1] < start) i += 2;
    let j = i;
    let newStart = start;
    let newEnd = end;
    while (j < n && r[j] <= end) {
      newStart = Math.min(newStart, r[j]);
      newEnd = Math.max(newEnd, r[j + 1]);
      j += 2;
    }
    r.splice(i, j - i, newStart, newEnd);
  }

  /** Removes [start, end). */
  remove(start: number, end: number): void {
    if (end <= start) return;
    const r = this.r;
    const out: number[] = [];
    for (let i = 0; i < r.length; i += 2) {
      const s = r[i];
      const e = r[i + 1];
      if (e <= start || s >= end) {
        out.push(s, e);
        continue;
      }
      if (s < start) out.push(s, start);
      if (e > end) out.push(end, e);
    }
    this.r = out;
  }

  /** Removes everything below `value`. */
  removeBelow(value: number): void {
    const r = this.r;
    let i = 0;
    while (i < r.length && r[i + 1] <= value) i += 2;
    if (i > 0) r.splice(0, i);
    if (r.length > 0 && r[0] < value) r[0] = value;
  }

  /** Drops the lowest ranges until at most `max` remain (bounds memory under hostile patterns). */
  truncate(max: number): void {
    if (this.r.length > 2 * max) this.r.splice(0, this.r.length - 2 * max);
  }

  /** Takes up to `limit` values from the bottom of the set: returns [start, end) or null. */
  shift(limit: number): [number, number] | null {
    const r = this.r;
    if (r.length === 0) return null;
    const start = r[0];
    const end = Math.min(r[1], start + limit);
    if (end === r[1]) r.splice(0, 2);
    else r[0] = end;
    return [start, end];
  }

  /** Empties the set. */
  clear(): void {
    this.r = [];
  }
}
