/**
 * Per-pair, per-direction, per-boot datagram keys.
 *
 *   shared         = X25519(edSecretToX25519(ownSeed), u(peerId))    (u: see peer-x25519.ts)
 *   key(S -> R)    = HKDF-SHA256(ikm = shared, salt = bootId(S),
 *                                info = "mcc-mesh/v1/session" || id(S) || id(R), 32)
 *
 * Both ends compute the same `shared`; the ordered (S, R) pair in `info` gives each
 * direction its own key, and the sender's boot ID as salt gives each sender boot fresh
 * keys, so a counter that restarts at 0 after a restart never reuses a (key, nonce).
 */
import { MccError } from '../errors.js';
import { bytesToHex } from '../util/bytes.js';
import type { CryptoSuite, KeyPair } from '../crypto/types.js';
import { IdleLruMap } from '../util/idle-lru.js';
import { AEAD_KEY_SIZE, BOOT_ID_SIZE, NODE_ID_SIZE } from '../wire/constants.js';
import { peerX25519PublicKey } from './peer-x25519.js';

/** HKDF `info` prefix of session keys (ASCII, no terminator). */
export const SESSION_KEY_INFO = new TextEncoder().encode('mcc-mesh/v1/session');

/**
 * The static X25519 secret shared by `own` and the peer `peerId`.
 * @throws MccError `ERR_CRYPTO` when `peerId` is not a canonical Ed25519 encoding or yields a low-order point.
 */
export function computeSharedSecret(suite: CryptoSuite, ownSeed: Uint8Array, peerId: Uint8Array): Uint8Array {
  return computeSharedSecretFromX25519(suite, suite.edSecretToX25519(ownSeed), peerId);
}

function computeSharedSecretFromX25519(suite: CryptoSuite, ownX25519Secret: Uint8Array, peerId: Uint8Array): Uint8Array {
  // Not cached across the nodes of a process: a benchmark running many nodes in one process
  // would then pay less per first contact than real nodes, one per process, do.
  return suite.x25519(ownX25519Secret, peerX25519PublicKey(peerId));
}

/** The 32-byte ChaCha20-Poly1305 key for datagrams from `senderId` (in boot `senderBootId`) to `receiverId`. */
export function deriveSessionKey(suite: CryptoSuite, shared: Uint8Array, senderId: Uint8Array, receiverId: Uint8Array, senderBootId: Uint8Array): Uint8Array {
  const info = new Uint8Array(SESSION_KEY_INFO.length + 2 * NODE_ID_SIZE);
  info.set(SESSION_KEY_INFO, 0);
  info.set(senderId, SESSION_KEY_INFO.length);
  info.set(receiverId, SESSION_KEY_INFO.length + NODE_ID_SIZE);
  return suite.hkdf(shared, senderBootId, info, AEAD_KEY_SIZE);
}

/** Options of a {@link PeerKeyCache}. */
export interface PeerKeyCacheOptions {
  /** Bound of each of the two caches (shared secrets per peer, keys per peer and boot). Default 10,000. */
  capacity?: number;
  /** Keys unused for this long (up to twice it) are dropped and derived again when needed. Default: never. */
  idleMs?: number;
  /** Current time, ms, for `idleMs`. */
  now?: () => number;
}

/** Map key of raw bytes: latin1 keeps one char per byte and is cheaper to build than hex. */
function bytesKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** A cached receive key with the hex of its peer's ID (the session layer's per-peer maps key on it). */
export interface ReceiveEntry {
  /** Key of datagrams from the peer in one of its boots. */
  readonly key: Uint8Array;
  /** Lower-case hex of the peer's ID. */
  readonly peerHex: string;
}

/**
 * Caches what a node needs to seal and open datagrams: the static shared secret per peer
 * (one X25519, the expensive part) and the derived keys per (peer, boot, direction).
 * Both maps are LRU-bounded, so hostile traffic cannot grow them without limit.
 */
export class PeerKeyCache {
  private readonly ownX25519Secret: Uint8Array;
  private readonly ownId: Uint8Array;
  private readonly shared: IdleLruMap<string, Uint8Array>;
  /** Send keys of boots other than {@link fastBoot}, by peer and boot. */
  private readonly derived: IdleLruMap<string, Uint8Array>;
  /**
   * Send keys for the first own boot ID asked for (a session layer has one), by the peer's hex:
   * a string the caller holds already, so a send builds no map key.
   */
  private readonly sendKeys: IdleLruMap<string, Uint8Array>;
  private fastBoot: Uint8Array | undefined;
  /** Receive keys by the datagram's sender ID and boot ID as one latin1 string (40 chars). */
  private readonly receiveKeys: IdleLruMap<string, ReceiveEntry>;
  private lastShared: { peerKey: string; shared: Uint8Array } | undefined;

  /**
   * @param suite crypto implementation.
   * @param identity this node's Ed25519 key pair (`secretKey` is the 32-byte seed).
   */
  constructor(
    private readonly suite: CryptoSuite,
    identity: KeyPair,
    options: PeerKeyCacheOptions = {},
  ) {
    const capacity = options.capacity ?? 10_000;
    this.ownX25519Secret = suite.edSecretToX25519(identity.secretKey);
    this.ownId = identity.publicKey;
    const idle = { idleMs: options.idleMs ?? Infinity, now: options.now ?? (() => 0) };
    this.shared = new IdleLruMap(capacity, idle);
    this.derived = new IdleLruMap(capacity, idle);
    this.sendKeys = new IdleLruMap(capacity, idle);
    this.receiveKeys = new IdleLruMap(capacity, idle);
  }

  /**
   * Key for datagrams this node sends to `peerId` during its own boot `ownBootId`.
   * @param peerHex hex of `peerId` when the caller has it (saves building a map key).
   * @throws MccError `ERR_CRYPTO` when `peerId` is not a usable public key.
   */
  sendKey(peerId: Uint8Array, ownBootId: Uint8Array, peerHex?: string): Uint8Array {
    this.fastBoot ??= ownBootId;
    if (ownBootId === this.fastBoot) {
      const hex = peerHex ?? bytesToHex(peerId);
      let key = this.sendKeys.get(hex);
      if (key === undefined) {
        key = deriveSessionKey(this.suite, this.sharedWith(peerId), this.ownId, peerId, ownBootId);
        this.sendKeys.set(hex, key);
      }
      return key;
    }
    const cacheKey = `${bytesKey(peerId)}${bytesKey(ownBootId)}`;
    let key = this.derived.get(cacheKey);
    if (key === undefined) {
      key = deriveSessionKey(this.suite, this.sharedWith(peerId), this.ownId, peerId, ownBootId);
      this.derived.set(cacheKey, key);
    }
    return key;
  }

  /**
   * Key for datagrams `peerId` sent to this node during the peer's boot `peerBootId`.
   * Nothing is cached: call {@link PeerKeyCache.rememberReceiveKey} once a datagram
   * authenticated under it, so forged datagrams cannot evict real peers' keys.
   * @throws MccError `ERR_CRYPTO` when `peerId` is not a usable public key (the receive path catches and drops).
   */
  receiveKey(peerId: Uint8Array, peerBootId: Uint8Array): Uint8Array {
    const cached = this.receiveKeys.get(receiveCacheKey(peerId, peerBootId));
    if (cached !== undefined) return cached.key;
    if (peerBootId.length !== BOOT_ID_SIZE) throw new MccError('ERR_CRYPTO', `boot ID must be ${BOOT_ID_SIZE} bytes`);
    const peerKey = bytesKey(peerId);
    let shared = this.shared.get(peerKey);
    if (shared === undefined) {
      shared = computeSharedSecretFromX25519(this.suite, this.ownX25519Secret, peerId);
      // Kept aside (not cached) so that rememberReceiveKey need not repeat the X25519.
      this.lastShared = { peerKey, shared };
    }
    return deriveSessionKey(this.suite, shared, peerId, this.ownId, peerBootId);
  }

  /**
   * Caches a receive key (and the peer's shared secret) after a datagram authenticated under it.
   * @param peerHex hex of `peerId` when the caller has it.
   */
  rememberReceiveKey(peerId: Uint8Array, peerBootId: Uint8Array, key: Uint8Array, peerHex?: string): void {
    const cacheKey = receiveCacheKey(peerId, peerBootId);
    if (this.receiveKeys.has(cacheKey)) return;
    this.receiveKeys.set(cacheKey, { key, peerHex: peerHex ?? bytesToHex(peerId) });
    const peerKey = bytesKey(peerId);
    if (this.lastShared?.peerKey === peerKey) this.shared.set(peerKey, this.lastShared.shared);
    this.lastShared = undefined;
  }

  /** The cached receive key for (`peerId`, `peerBootId`) with the peer's hex, or undefined: what {@link receiveKey} answers without deriving. */
  cachedReceive(peerId: Uint8Array, peerBootId: Uint8Array): ReceiveEntry | undefined {
    return this.receiveKeys.get(receiveCacheKey(peerId, peerBootId));
  }

  /** The cached receive key for (`peerId`, `peerBootId`), or undefined: what {@link receiveKey} answers without deriving. */
  cachedReceiveKey(peerId: Uint8Array, peerBootId: Uint8Array): Uint8Array | undefined {
    return this.receiveKeys.get(receiveCacheKey(peerId, peerBootId))?.key;
  }

  /** True when {@link receiveKey} would be answered from the cache (no X25519, no HKDF). */
  hasReceiveKey(peerId: Uint8Array, peerBootId: Uint8Array): boolean {
    return this.receiveKeys.has(receiveCacheKey(peerId, peerBootId));
  }

  /** True when the static shared secret with `peerId` is cached (a new boot of a known peer costs only an HKDF). */
  hasSharedSecret(peerId: Uint8Array): boolean {
    return this.shared.has(bytesKey(peerId));
  }

  /** Number of cached derived keys, send and receive (for stats and tests). */
  get size(): number {
    return this.derived.size + this.sendKeys.size + this.receiveKeys.size;
  }

  private sharedWith(peerId: Uint8Array): Uint8Array {
    const cacheKey = bytesKey(peerId);
    let secret = this.shared.get(cacheKey);
    if (secret === undefined) {
      secret = computeSharedSecretFromX25519(this.suite, this.ownX25519Secret, peerId);
      this.shared.set(cacheKey, secret);
    }
    return secret;
  }
}

function receiveCacheKey(peerId: Uint8Array, peerBootId: Uint8Array): string {
  // In a datagram header the boot ID follows the sender ID: one string of both, one call.
  if (peerId.buffer === peerBootId.buffer && peerId.byteOffset + peerId.byteLength === peerBootId.byteOffset) {
    return Buffer.from(peerId.buffer, peerId.byteOffset, peerId.byteLength + peerBootId.byteLength).toString('latin1');
  }
  return `${bytesKey(peerId)}${bytesKey(peerBootId)}`;
}
