/**
 * Restricted provider records. A record meant for organisation B (or for node N) from a
 * provider of organisation P is stored under a DHT key derived from a secret only the two
 * sides hold, and its contents are sealed under a key derived from the same secret:
 *
 *   shared   = X25519(P's read secret, B's read public key)   (B's members: X25519(B's read secret, P's read public key))
 *            = X25519(P's read secret, N's X25519 key)        (node N: X25519(N's secret, P's read public key))
 *   key      = HKDF(shared, "mcc/consortium/key/v1", name)
 *   content  = HKDF(shared, "mcc/consortium/content/v1", name)
 *   value    = version (1) | nonce (12) | ChaCha20-Poly1305(content, nonce, provider value, aad = key || author)
 *
 * The nonce is an HMAC of the plaintext (synthetic, as in SIV): a republish of unchanged
 * contents yields the same bytes, so watchers see no spurious update, and a nonce repeats
 * only with its plaintext. Storing nodes see an ordinary signed record (author, seq,
 * expiry, size) under a key they cannot link to a service name.
 */
import type { CryptoSuite } from '../crypto/types.js';
import type { SignedRecord } from '../kademlia/types.js';

const VERSION = 1;
const NONCE = 12;
const TAG = 16;
const KEY_SALT = new TextEncoder().encode('mcc/consortium/key/v1');
const CONTENT_SALT = new TextEncoder().encode('mcc/consortium/content/v1');
const NONCE_INFO = new TextEncoder().encode('mcc/consortium/nonce/v1');
/** Bytes a sealed value adds to the provider value it carries. */
export const RESTRICTED_OVERHEAD = 1 + NONCE + TAG;

/** The DHT key and content key of one (shared secret, service name) pair. */
export interface RestrictedChannel {
  /** The DHT key records are stored under. */
  readonly key: Uint8Array;
  /** The AEAD key their contents are sealed with. */
  readonly contentKey: Uint8Array;
}

/** Derives the channel of a shared secret for a service name (UTF-8 bytes). */
export function restrictedChannel(suite: CryptoSuite, shared: Uint8Array, name: Uint8Array): RestrictedChannel {
  return { key: suite.hkdf(shared, KEY_SALT, name, 32), contentKey: suite.hkdf(shared, CONTENT_SALT, name, 32) };
}

function aad(key: Uint8Array, author: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + author.length);
  out.set(key);
  out.set(author, key.length);
  return out;
}

/** Seals a provider value for the channel's readers; `author` is the node that will sign the record. */
export function sealRestrictedValue(suite: CryptoSuite, channel: RestrictedChannel, author: Uint8Array, plain: Uint8Array): Uint8Array {
  const nonceKey = suite.hkdf(channel.contentKey, new Uint8Array(0), NONCE_INFO, 32);
  const nonce = suite.hmacSha256(nonceKey, plain).subarray(0, NONCE);
  const sealed = suite.seal(channel.contentKey, nonce, plain, aad(channel.key, author));
  const out = new Uint8Array(1 + NONCE + sealed.length);
  out[0] = VERSION;
  out.set(nonce, 1);
  out.set(sealed, 1 + NONCE);
  return out;
}

/** The provider value inside a restricted record, or null when it is not for this channel or was altered. Never throws. */
export function openRestrictedValue(suite: CryptoSuite, channel: RestrictedChannel, record: SignedRecord): Uint8Array | null {
  const value = record.value;
  if (!(value instanceof Uint8Array) || value.length < RESTRICTED_OVERHEAD || value[0] !== VERSION) return null;
  if (!(record.author instanceof Uint8Array)) return null;
  return suite.open(channel.contentKey, value.subarray(1, 1 + NONCE), value.subarray(1 + NONCE), aad(channel.key, record.author));
}
