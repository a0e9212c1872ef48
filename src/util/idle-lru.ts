/**
 * A bounded map that also forgets what nobody used for a while. Per-peer session state is
 * kept for every peer a node ever exchanged a datagram with; in a large mesh that is most of
 * the network after an hour (a 300-node simulated hour: ~185 peers per node, ~3.5 KB each),
 * while the peers a node talks to in any ten minutes are a small part of it.
 *
 * Two generations instead of a timestamp per entry: entries live in `current`; every
 * `idleMs` the current generation becomes the previous one and the previous one is dropped.
 * A read of an entry in the previous generation moves it back into the current one, so an
 * entry is dropped no sooner than `idleMs` after its last use, and about `2 * idleMs` after
 * it while the map is in use (rotation runs when due on `get` and `set`, so no timer is
 * needed, and a map nobody touches keeps its entries until the next call). `peek` and `has`
 * neither rotate nor refresh. Eviction for room takes the previous generation first and,
 * within a generation, the entry inserted first: a read does not reorder the current
 * generation (that would cost a delete and a set per datagram on the session's hot path).
 */
export interface IdleLruOptions<K, V> {
  /** Entries unused for this long (and at most twice it) are dropped. */
  idleMs: number;
  /** Current time, ms. */
  now: () => number;
  /** Told of every entry dropped for idleness or for room (not of `delete` or `clear`). */
  onDrop?: (key: K, value: V) => void;
}

/** {@link LruMap}'s interface, with idle expiry (see the module comment). */
export class IdleLruMap<K, V> {
  private current = new Map<K, V>();
  private previous = new Map<K, V>();
  private rotateAt: number;

  constructor(
    readonly capacity: number,
    private readonly options: IdleLruOptions<K, V>,
  ) {
    if (!(capacity > 0)) throw new RangeError('IdleLruMap capacity must be positive');
    if (!(options.idleMs > 0)) throw new RangeError('IdleLruMap idleMs must be positive');
    this.rotateAt = options.now() + options.idleMs;
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }

  get(key: K): V | undefined {
    this.rotate();
    const value = this.current.get(key);
    if (value !== undefined) return value;
    const old = this.previous.get(key);
    if (old !== undefined) {
      this.previous.delete(key);
      this.current.set(key, old);
    }
    return old;
  }

  /** Reads without touching recency. */
  peek(key: K): V | undefined {
    return this.current.get(key) ?? this.previous.get(key);
  }

  has(key: K): boolean {
    return this.current.has(key) || this.previous.has(key);
  }

  set(key: K, value: V): void {
    this.rotate();
    if (this.current.has(key)) {
      this.current.set(key, value);
      return;
    }
    if (!this.previous.delete(key) && this.size >= this.capacity) this.evictOldest();
    this.current.set(key, value);
  }

  delete(key: K): boolean {
    return this.current.delete(key) || this.previous.delete(key);
  }

  clear(): void {
    this.current.clear();
    this.previous.clear();
  }

  /** Values, least recently used generation first. */
  *values(): IterableIterator<V> {
    yield* this.previous.values();
    yield* this.current.values();
  }

  *entries(): IterableIterator<[K, V]> {
    yield* this.previous.entries();
    yield* this.current.entries();
  }

  private rotate(): void {
    const now = this.options.now();
    if (now < this.rotateAt) return;
    const dropped = this.previous;
    if (now >= this.rotateAt + this.options.idleMs) {
      // Idle for two periods: both generations are stale.
      this.previous = new Map();
      this.notify(this.current);
    } else {
      this.previous = this.current;
    }
    this.current = new Map();
    this.notify(dropped);
    this.rotateAt = now + this.options.idleMs;
  }

  private evictOldest(): void {
    const from = this.previous.size > 0 ? this.previous : this.current;
    const oldest = from.entries().next();
    if (oldest.done) return;
    from.delete(oldest.value[0]);
    this.options.onDrop?.(oldest.value[0], oldest.value[1]);
  }

  private notify(dropped: Map<K, V>): void {
    const onDrop = this.options.onDrop;
    if (onDrop !== undefined) for (const [key, value] of dropped) onDrop(key, value);
  }
}
