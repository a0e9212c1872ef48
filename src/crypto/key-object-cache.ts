/**
 * A small bounded LRU of `node:crypto` KeyObjects keyed by the raw key bytes.
 *
 * Building a KeyObject from DER costs about as much as a signature, and a node signs
 * with its own key and talks to the same few peers over and over, so caching pays.
 * The bound keeps a flood of distinct peer keys from growing memory.
 */

import type { KeyObject } from 'node:crypto';
import { toHex } from './bytes.js';

/** Bounded least-recently-used map from raw key bytes to a built KeyObject. */
export class KeyObjectCache {
  private readonly entries = new Map<string, KeyObject>();

  /** @param capacity - most entries kept; the least recently used is evicted beyond it. */
  constructor(
    private readonly capacity: number,
    private readonly build: (raw: Uint8Array) => KeyObject,
  ) {}

  /** Returns the cached KeyObject for `raw`, building (and caching) it on a miss. */
  get(raw: Uint8Array): KeyObject {
    const id = toHex(raw);
    const hit = this.entries.get(id);
    if (hit !== undefined) {
      // Re-insert to mark as most recently used (Map keeps insertion order).
      this.entries.delete(id);
      this.entries.set(id, hit);
      return hit;
    }
    const built = this.build(raw);
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(id, built);
    return built;
  }

  /** Number of cached entries. */
  get size(): number {
    return this.entries.size;
  }
}
