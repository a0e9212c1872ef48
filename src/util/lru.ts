/** A bounded map that evicts the least recently used entry; the bound is what keeps per-peer state finite. */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();
  /**
   * The most recently used key, when known. Touching it again changes nothing, so get skips
   * the delete-and-reinsert (a burst of datagrams from one peer hits the same entry).
   */
  private newest: K | undefined;
  private hasNewest = false;
  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new RangeError('LruMap capacity must be positive');
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined && !(this.hasNewest && this.newest === key)) {
      // Re-insert to mark as most recently used (Map keeps insertion order).
      this.map.delete(key);
      this.map.set(key, value);
      this.newest = key;
      this.hasNewest = true;
    }
    return value;
  }

  /** Reads without touching recency. */
  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V): void {
    if (this.map.has(key)) this.map.delete(key);
    else if (this.map.size >= this.capacity) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.set(key, value);
    this.newest = key;
    this.hasNewest = true;
  }

  delete(key: K): boolean {
    if (this.hasNewest && this.newest === key) this.forgetNewest();
    return this.map.delete(key);
  }

  clear(): void {
    this.forgetNewest();
    this.map.clear();
  }

  private forgetNewest(): void {
    this.newest = undefined;
    this.hasNewest = false;
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
  }
}
