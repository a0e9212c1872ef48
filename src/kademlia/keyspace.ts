/**
 * The Kademlia key space: positions (SHA-256 of node IDs), XOR-distance comparisons
 * and namespaced key derivation. Comparisons work byte by byte on the arrays and
 * allocate nothing, because lookups at 10,000 nodes sort thousands of contacts.
 */
import type { CryptoSuite } from '../crypto/types.js';
import { ID_LENGTH } from './types.js';

/** Hash-input prefixes, so DHT keys of different kinds (and discovery's service keys) never collide. */
export const KEY_NAMESPACE = {
  immutable: 'mcc/value/',
  mutable: 'mcc/mutable/',
  service: 'mcc/service/',
} as const;

const encoder = new TextEncoder();
const prefixBytes = new Map<string, Uint8Array>();

function prefix(text: string): Uint8Array {
  let bytes = prefixBytes.get(text);
  if (bytes === undefined) {
    bytes = encoder.encode(text);
    prefixBytes.set(text, bytes);
  }
  return bytes;
}

/** SHA-256(namespace || part1 || part2 ...). Callers keep parts fixed-length or last, so the input is unambiguous. */
export function namespacedKey(suite: CryptoSuite, namespace: string, ...parts: Uint8Array[]): Uint8Array {
  const head = prefix(namespace);
  let length = head.length;
  for (const part of parts) length += part.length;
  const input = new Uint8Array(length);
  input.set(head, 0);
  let offset = head.length;
  for (const part of parts) {
    input.set(part, offset);
    offset += part.length;
  }
  return suite.sha256(input);
}

/** Key of an immutable value: SHA-256("mcc/value/" || value). */
export function immutableKey(suite: CryptoSuite, value: Uint8Array): Uint8Array {
  return namespacedKey(suite, KEY_NAMESPACE.immutable, value);
}

/** Key of a mutable value: SHA-256("mcc/mutable/" || author public key (32 bytes) || salt). */
export function mutableKey(suite: CryptoSuite, author: Uint8Array, salt?: Uint8Array): Uint8Array {
  return namespacedKey(suite, KEY_NAMESPACE.mutable, author, salt ?? new Uint8Array(0));
}

interface CachedPosition {
  id: Uint8Array;
  position: Uint8Array;
}

/** A 48-bit number from the first 6 bytes of an ID (exact in a double): a cheap Map key. */
export function idSlot(id: Uint8Array): number {
  return (id[0] * 0x1_0000 + (id[1] << 8) + id[2]) * 0x100_0000 + ((id[3] << 16) | (id[4] << 8) | id[5]);
}

/**
 * Node-ID -> position cache. Positions are a pure function of the ID bytes, so caching them
 * process-wide is safe and saves re-hashing the same IDs seen in many answers.
 */
export class Positions {
  // Shared by every instance: SHA-256 is the same in every suite, and nodes of one process
  // (simulations) pass each other the same contact objects.
  private static readonly shared = new WeakMap<Uint8Array, Uint8Array>();
  private readonly cache = Positions.shared;
  constructor(private readonly suite: CryptoSuite) {}

  /**
   * Positions by ID bytes: IDs decoded off the wire are new arrays every time, so the WeakMap
   * alone misses them. Keyed by a 48-bit number from the ID's first bytes (no string built per
   * call), the full ID compared on a hit; a collision just re-hashes and takes the slot, so
   * crafted IDs cost no more than no cache. Two generations instead of an LRU: a young hit is
   * one Map lookup, an old hit is promoted, a full young generation retires the old one whole.
   */
  private static young = new Map<number, CachedPosition>();
  private static old = new Map<number, CachedPosition>();
  private static readonly GENERATION = 25_000;

  /** SHA-256 of the node ID (cached by value; by array object for {@link Positions.remember}ed copies). */
  of(id: Uint8Array): Uint8Array {
    let position = this.cache.get(id);
    if (position === undefined) {
      const slot = idSlot(id);
      let entry = Positions.young.get(slot);
      if (entry === undefined || !sameId(entry.id, id)) {
        entry = Positions.old.get(slot);
        if (entry === undefined || !sameId(entry.id, id)) entry = { id: Uint8Array.from(id), position: this.suite.sha256(id) };
        if (Positions.young.size >= Positions.GENERATION) {
          Positions.old = Positions.young;
          Positions.young = new Map();
        }
        Positions.young.set(slot, entry);
      }
      // Not added to the WeakMap: most misses are IDs decoded off the wire, used a few times
      // and dropped, and a WeakMap insertion (plus the ephemeron work it gives the GC) costs
      // more than the slot lookup that finds them again.
      position = entry.position;
    }
    return position;
  }

  /** Records a known position for an ID array (e.g. a copy of an ID already hashed). */
  remember(id: Uint8Array, position: Uint8Array): void {
    this.cache.set(id, position);
  }
}

/** Sign of d(a, target) - d(b, target) under XOR distance: negative when `a` is closer. */
export function compareDistance(a: Uint8Array, b: Uint8Array, target: Uint8Array): number {
  for (let i = 0; i < ID_LENGTH; i++) {
    const da = a[i] ^ target[i];
    const db = b[i] ^ target[i];
    if (da !== db) return da - db;
  }
  return 0;
}

/** Number of leading bits `a` and `b` share (256 when equal). */
export function commonPrefixLength(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < ID_LENGTH; i++) {
    const x = a[i] ^ b[i];
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return ID_LENGTH * 8;
}

/** Byte equality of two 32-byte values. */
export function sameId(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A random position whose common prefix with `base` is exactly `cpl` bits (for bucket
 * refresh: a target inside bucket `cpl`). `random` supplies the bytes.
 */
export function randomPositionInBucket(base: Uint8Array, cpl: number, random: Uint8Array): Uint8Array {
  const out = Uint8Array.from(random.subarray(0, ID_LENGTH));
  const fullBytes = cpl >> 3;
  for (let i = 0; i < fullBytes; i++) out[i] = base[i]!;
  if (fullBytes < ID_LENGTH) {
    const bit = cpl & 7;
    const keepMask = (0xff << (8 - bit)) & 0xff; // bits shared with base
    const flip = 0x80 >> bit; // first differing bit
    let byte = (base[fullBytes] & keepMask) | (out[fullBytes] & ~keepMask & 0xff);
    byte = (byte & ~flip) | (~base[fullBytes] & flip);
    out[fullBytes] = byte & 0xff;
  }
  return out;
}

/** True for a 32-byte Uint8Array. */
export function isId(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === ID_LENGTH;
}
