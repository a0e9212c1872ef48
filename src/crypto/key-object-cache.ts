/**
 * A small bounded LRU of `node:crypto` KeyObjects keyed by the raw key bytes.
 *
 * Building a KeyObject costs more than a signature, and a node signs with its own key
 * and talks to the same peers over and over, so caching pays. Bounds keep a flood of
 * distinct keys from growing memory.
 *
 * Secret keys need extra care: a cache must not keep ephemeral (forward-secret) keys
 * alive after their handshake. Caches for secrets therefore (a) never store the key
 * bytes as the map key, only a SHA-256 fingerprint, and (b) admit a key only after it
 * has been used `admitAfterUses` times, which long-term keys reach within seconds and
 * a handshake's ephemeral key never does.
 */

import { createHash, type KeyObject } from 'node:crypto';
import { bytesToHex } from '../util/bytes.js';

/** Options of a {@link KeyObjectCache}. */
export interface KeyObjectCacheOptions {
  /** Most KeyObjects kept; the least recently used is evicted beyond it. */
  capacity: number;
  /** Builds the KeyObject for raw key bytes on a miss. */
  build: (raw: Uint8Array) => KeyObject;
  /**
   * True for secret keys: entries are keyed by a fingerprint and admitted only after
   * {@link admitAfterUses} uses. Public keys are keyed by their hex and admitted at once.
   */
  secret?: boolean;
  /** Uses before a secret key is cached (default 4). Ignored for public keys. */
  admitAfterUses?: number;
}

/** Domain separation so a fingerprint is never equal to some other protocol hash of the key. */
const FINGERPRINT_PREFIX = Buffer.from('mcc-mesh key-object-cache fingerprint\0');

/** An admitted secret key, found again by its array object: its bytes (compared on every hit) and KeyObject. */
interface PinnedSecret {
  bytes: Uint8Array;
  key: KeyObject;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Bounded least-recently-used map from raw key bytes to a built KeyObject. */
export class KeyObjectCache {
  private readonly entries = new Map<string, KeyObject>();
  /**
   * Admitted secret keys by the array object that holds them. A node passes the same array
   * for its long-term key on every first contact, so a hit costs a 32-byte compare instead of
   * a SHA-256 fingerprint. Weak: an entry lives no longer than the caller's own array; the
   * byte compare catches an array changed in place (then the fingerprint path runs).
   */
  private readonly pinned = new WeakMap<Uint8Array, PinnedSecret>();
  /** Use counts of secret keys not yet admitted, by fingerprint; bounded like the cache. */
  private readonly pending = new Map<string, number>();
  private readonly capacity: number;
  private readonly build: (raw: Uint8Array) => KeyObject;
  private readonly secret: boolean;
  private readonly admitAfterUses: number;

  /** Creates an empty cache; see {@link KeyObjectCacheOptions}. */
  constructor(options: KeyObjectCacheOptions) {
    this.capacity = Math.max(1, options.capacity);
    this.build = options.build;
    this.secret = options.secret ?? false;
    this.admitAfterUses = this.secret ? Math.max(1, options.admitAfterUses ?? 4) : 1;
  }

  /** Returns the cached KeyObject for `raw`, building it on a miss (and caching it once admitted). */
  get(raw: Uint8Array): KeyObject {
    if (this.secret) {
      const pinned = this.pinned.get(raw);
      // Not refreshed in the LRU on this path: an evicted key just takes the fingerprint path once more.
      if (pinned !== undefined && sameBytes(pinned.bytes, raw)) return pinned.key;
    }
    const id = this.secret ? createHash('sha256').update(FINGERPRINT_PREFIX).update(raw).digest('base64') : bytesToHex(raw);
    const hit = this.entries.get(id);
    if (hit !== undefined) {
      // Re-insert to mark as most recently used (Map keeps insertion order).
      this.entries.delete(id);
      this.entries.set(id, hit);
      if (this.secret) this.pinned.set(raw, { bytes: Uint8Array.from(raw), key: hit });
      return hit;
    }
    const built = this.build(raw);
    if (this.admit(id)) {
      this.evictIfFull(this.entries);
      this.entries.set(id, built);
      if (this.secret) this.pinned.set(raw, { bytes: Uint8Array.from(raw), key: built });
    }
    return built;
  }

  /** Counts a use of a not-yet-cached key; true once it has been used often enough. */
  private admit(id: string): boolean {
    if (this.admitAfterUses <= 1) return true;
    const uses = (this.pending.get(id) ?? 0) + 1;
    this.pending.delete(id);
    if (uses >= this.admitAfterUses) return true;
    this.evictIfFull(this.pending);
    this.pending.set(id, uses);
    return false;
  }

  private evictIfFull(map: Map<string, unknown>): void {
    while (map.size >= this.capacity) {
      const oldest = map.keys().next().value;
      if (oldest === undefined) return;
      map.delete(oldest);
    }
  }

  /** Number of cached KeyObjects. */
  get size(): number {
    return this.entries.size;
  }
}
