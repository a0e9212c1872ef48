/**
 * The fast crypto suite on `node:crypto` (OpenSSL). Produces the same bytes as the
 * pure-JS {@link nobleCryptoSuite}; only the Ed25519 -> X25519 public-key map comes
 * from `@noble/curves`, because OpenSSL exposes no such conversion.
 */

import * as nodeCrypto from 'node:crypto';
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  diffieHellman,
  type CipherGCM,
  type DecipherGCM,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { ChaCha20Poly1305 } from '@stablelib/chacha20poly1305';
import { MccError, invalidArgument } from '../errors.js';
import {
  KEY_LENGTH,
  SIGNATURE_LENGTH,
  TAG_LENGTH,
  checkAeadArguments,
  NONCE_LENGTH,
  checkHkdfArguments,
  hasLength,
  isAllZero,
  lowOrderError,
  requireBytes,
  requireLength,
  requirePeerKey,
  secureRandomBytes,
  toPlain,
} from './bytes.js';
import { edPrivateKeys, edPublicKeys, rawPublicKey, xPrivateKeys, xPublicKeys } from './node-keys.js';
import type { CryptoSuite } from './types.js';

/**
 * Below this many plaintext bytes the pure-JS ChaCha20-Poly1305 beats OpenSSL, whose
 * per-call cipher setup (~10 us) dominates short messages; measured crossover on Node 20
 * was 256-384 bytes. Both produce identical bytes, so the switch is invisible on the wire.
 */
export const SMALL_AEAD_BYTES = 256;

/** Cipher options shared by every AEAD call (one object, not one per packet). */
const AEAD_OPTIONS = { authTagLength: TAG_LENGTH } as const;

/**
 * The cheap checks of the `*Into` hot paths: lengths and room only (no instanceof
 * chains per argument), still throwing ERR_INVALID_ARGUMENT on a programming error.
 */
function checkInto(key: Uint8Array, nonce: Uint8Array, out: Uint8Array, outOffset: number, length: number): void {
  if (key?.length !== KEY_LENGTH) throw invalidArgument('key', `must be a Uint8Array of ${KEY_LENGTH} bytes`);
  if (nonce?.length !== NONCE_LENGTH) throw invalidArgument('nonce', `must be a Uint8Array of ${NONCE_LENGTH} bytes`);
  if (!(outOffset >= 0) || out === undefined || outOffset + length > out.length) throw invalidArgument('out', 'has no room for the result at outOffset');
}

/** `crypto.hash` is missing before Node 20.12, hence the namespace lookup rather than a named import. */
const nodeHash = (nodeCrypto as { hash?: typeof nodeCrypto.hash }).hash;

/** One-shot SHA-256: `crypto.hash` (Node >= 20.12) skips the Hash object and is ~1.7x faster. */
const sha256OneShot: (data: Uint8Array) => Buffer =
  typeof nodeHash === 'function' ? (data) => nodeHash('sha256', data, 'buffer') : (data) => createHash('sha256').update(data).digest();

/**
 * HKDF-SHA-256 (RFC 5869) on HMAC objects. Measured faster than `hkdfSync` for the short
 * outputs we derive (~1.8x for 32 bytes), and free of its 1024-byte limit on `info`.
 */
function hkdfViaHmac(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const prk = createHmac('sha256', salt).update(ikm).digest();
  const out = new Uint8Array(length);
  let previous: Buffer = Buffer.alloc(0);
  for (let counter = 1, offset = 0; offset < length; counter++) {
    previous = createHmac('sha256', prk).update(previous).update(info).update(Uint8Array.of(counter)).digest();
    out.set(previous.subarray(0, Math.min(previous.length, length - offset)), offset);
    offset += previous.length;
  }
  return out;
}

/** RFC 8032 secret scalar: first half of SHA-512(seed), clamped as in RFC 7748. */
function edSecretToX25519(secretKey: Uint8Array): Uint8Array {
  requireLength(secretKey, KEY_LENGTH, 'secretKey');
  const scalar = toPlain(createHash('sha512').update(secretKey).digest().subarray(0, KEY_LENGTH));
  scalar[0] &= 248;
  scalar[31] &= 127;
  scalar[31] |= 64;
  return scalar;
}

/** The `node:crypto` suite (OpenSSL): the default, and the fastest on Node. */
export const nodeCryptoSuite: CryptoSuite = Object.freeze({
  name: 'node',

  randomBytes: secureRandomBytes,

  sha256(data: Uint8Array): Uint8Array {
    requireBytes(data, 'data');
    return toPlain(sha256OneShot(data));
  },

  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
    requireBytes(key, 'key');
    requireBytes(data, 'data');
    return toPlain(createHmac('sha256', key).update(data).digest());
  },

  hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    checkHkdfArguments(ikm, salt, info, length);
    return hkdfViaHmac(ikm, salt, info, length);
  },

  ed25519PublicKey(secretKey: Uint8Array): Uint8Array {
    requireLength(secretKey, KEY_LENGTH, 'secretKey');
    return rawPublicKey(edPrivateKeys.get(secretKey));
  },

  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
    requireBytes(message, 'message');
    requireLength(secretKey, KEY_LENGTH, 'secretKey');
    return toPlain(nodeSign(null, message, edPrivateKeys.get(secretKey)));
  },

  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
    if (!hasLength(signature, SIGNATURE_LENGTH) || !hasLength(publicKey, KEY_LENGTH)) return false;
    if (!(message instanceof Uint8Array)) return false;
    try {
      return nodeVerify(null, message, edPublicKeys.get(publicKey), signature);
    } catch {
      return false;
    }
  },

  x25519PublicKey(secretKey: Uint8Array): Uint8Array {
    requireLength(secretKey, KEY_LENGTH, 'secretKey');
    return rawPublicKey(xPrivateKeys.get(secretKey));
  },

  x25519(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
    requireLength(secretKey, KEY_LENGTH, 'secretKey');
    requirePeerKey(publicKey, 'publicKey');
    let shared: Buffer;
    try {
      shared = diffieHellman({ privateKey: xPrivateKeys.get(secretKey), publicKey: xPublicKeys.get(publicKey) });
    } catch (error) {
      // OpenSSL refuses to derive the all-zero secret itself; report it the same way noble does.
      throw lowOrderError(error);
    }
    if (shared.length !== KEY_LENGTH || isAllZero(shared)) throw lowOrderError();
    return toPlain(shared);
  },

  edPublicToX25519(publicKey: Uint8Array): Uint8Array {
    requirePeerKey(publicKey, 'publicKey');
    try {
      return ed25519.utils.toMontgomery(publicKey);
    } catch (error) {
      throw new MccError('ERR_CRYPTO', 'invalid Ed25519 public key', { cause: error });
    }
  },

  edSecretToX25519,

  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array {
    checkAeadArguments(key, nonce, plaintext, aad);
    if (plaintext.length < SMALL_AEAD_BYTES) return new ChaCha20Poly1305(key).seal(nonce, plaintext, aad);
    const out = new Uint8Array(plaintext.length + TAG_LENGTH);
    sealWithOpenSsl(key, nonce, plaintext, aad, out, 0);
    return out;
  },

  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array | null {
    checkAeadArguments(key, nonce, sealed, aad);
    if (sealed.length < TAG_LENGTH) return null;
    const bodyLength = sealed.length - TAG_LENGTH;
    if (bodyLength < SMALL_AEAD_BYTES) return new ChaCha20Poly1305(key).open(nonce, sealed, aad);
    const body = openWithOpenSsl(key, nonce, sealed, aad);
    // update()'s output owns an ArrayBuffer of exactly its size (no pool): hand it out as a
    // plain Uint8Array view instead of copying it, as the pure-JS suite returns plain arrays.
    return body === null ? null : new Uint8Array(body.buffer, body.byteOffset, body.length);
  },

  sealInto(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined, out: Uint8Array, outOffset: number): void {
    const length = plaintext.length;
    checkInto(key, nonce, out, outOffset, length + TAG_LENGTH);
    if (length < SMALL_AEAD_BYTES) new ChaCha20Poly1305(key).seal(nonce, plaintext, aad, out.subarray(outOffset, outOffset + length + TAG_LENGTH));
    else sealWithOpenSsl(key, nonce, plaintext, aad, out, outOffset);
  },

  openInto(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array | undefined, out: Uint8Array, outOffset: number): boolean {
    const length = sealed.length - TAG_LENGTH;
    if (length < 0) return false;
    checkInto(key, nonce, out, outOffset, length);
    if (length >= SMALL_AEAD_BYTES) {
      const body = openWithOpenSsl(key, nonce, sealed, aad);
      if (body === null) return false;
      out.set(body, outOffset);
      return true;
    }
    try {
      return new ChaCha20Poly1305(key).open(nonce, sealed, aad, out.subarray(outOffset, outOffset + length)) !== null;
    } catch {
      return false;
    }
  },
});

/**
 * OpenSSL seal into `out` (in place allowed: `update` has read all of `plaintext` before
 * anything is written). No `plaintextLength` option on setAAD: only CCM needs it, and
 * the option object costs an allocation and a validation per call.
 */
function sealWithOpenSsl(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined, out: Uint8Array, outOffset: number): void {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, AEAD_OPTIONS);
  // Typed as CCM by @types/node; at runtime ChaCha20-Poly1305 takes setAAD(aad) like GCM.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- @types/node types this cipher as CCM, whose setAAD needs an options argument; tsc needs the cast
  if (aad !== undefined && aad.length > 0) (cipher as unknown as CipherGCM).setAAD(aad);
  const body = cipher.update(plaintext);
  out.set(body, outOffset);
  const tail = cipher.final(); // empty for a stream cipher, kept for correctness
  if (tail.length > 0) out.set(tail, outOffset + body.length);
  out.set(cipher.getAuthTag(), outOffset + plaintext.length);
}

/**
 * OpenSSL open: the plaintext as `update()` produced it (no copy), or null unless the
 * tag authenticates.
 */
function openWithOpenSsl(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array | undefined): Buffer | null {
  const length = sealed.length - TAG_LENGTH;
  try {
    const decipher = createDecipheriv('chacha20-poly1305', key, nonce, AEAD_OPTIONS);
    decipher.setAuthTag(sealed.subarray(length));
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- see sealWithOpenSsl
    if (aad !== undefined && aad.length > 0) (decipher as unknown as DecipherGCM).setAAD(aad);
    const body = decipher.update(sealed.subarray(0, length));
    // final() throws when the tag does not authenticate; the plaintext is then discarded.
    const tail = decipher.final();
    // Empty for a stream cipher; kept for correctness.
    return tail.length === 0 ? body : Buffer.concat([body, tail]);
  } catch {
    return null;
  }
}
