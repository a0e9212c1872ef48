/**
 * The portable pure-JS crypto suite: `@noble/curves`, `@noble/hashes` and
 * `@stablelib/chacha20poly1305`. Byte-for-byte identical to {@link nodeCryptoSuite};
 * useful where OpenSSL lacks a primitive and as a cross-check in tests.
 */

import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { ChaCha20Poly1305 } from '@stablelib/chacha20poly1305';
import { MccError, invalidArgument } from '../errors.js';
import {
  KEY_LENGTH,
  NONCE_LENGTH,
  SIGNATURE_LENGTH,
  TAG_LENGTH,
  checkAeadArguments,
  checkHkdfArguments,
  hasLength,
  isAllZero,
  lowOrderError,
  requireBytes,
  requireLength,
  requirePeerKey,
  secureRandomBytes,
} from './bytes.js';
import type { CryptoSuite } from './types.js';

/**
 * RFC 8032 strict decoding (not ZIP-215), to accept exactly what OpenSSL accepts so
 * the two suites agree on every signature.
 */
const VERIFY_OPTIONS = { zip215: false } as const;

/** Cheap checks of the `*Into` hot paths (same errors as the node suite's). */
function checkInto(key: Uint8Array, nonce: Uint8Array, out: Uint8Array, outOffset: number, length: number): void {
  if (key?.length !== KEY_LENGTH) throw invalidArgument('key', `must be a Uint8Array of ${KEY_LENGTH} bytes`);
  if (nonce?.length !== NONCE_LENGTH) throw invalidArgument('nonce', `must be a Uint8Array of ${NONCE_LENGTH} bytes`);
  if (!(outOffset >= 0) || out === undefined || outOffset + length > out.length) throw invalidArgument('out', 'has no room for the result at outOffset');
}

/** The pure-JS suite: portable fallback and cross-check for the node suite. */
export const nobleCryptoSuite: CryptoSuite = Object.freeze({
  name: 'noble',

  randomBytes: secureRandomBytes,

  sha256(data: Uint8Array): Uint8Array {
    requireBytes(data, 'data');
    return nobleSha256(data);
  },

  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
    requireBytes(key, 'key');
    requireBytes(data, 'data');
    return hmac(nobleSha256, key, data);
  },

  hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    checkHkdfArguments(ikm, salt, info, length);
    return nobleHkdf(nobleSha256, ikm, salt, info, length);
  },

  ed25519PublicKey(secretKey: Uint8Array): Uint8Array {
    requireLength(secretKey, KEY_LENGTH, 'secretKey');
    return ed25519.getPublicKey(secretKey);
  },

  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
    requireBytes(message, 'message');
    requireLength(secretKey, KEY_LENGTH, 'secretKey');
    return ed25519.sign(message, secretKey);
  },

  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
    if (!hasLength(signature, SIGNATURE_LENGTH) || !hasLength(publicKey, KEY_LENGTH)) return false;
    if (!(message instanceof Uint8Array)) return false;
    try {
      return ed25519.verify(signature, message, publicKey, VERIFY_OPTIONS);
    } catch {
      return false;
    }
  },

  x25519PublicKey(secretKey: Uint8Array): Uint8Array {
    requireLength(secretKey, KEY_LENGTH, 'secretKey');
    return x25519.getPublicKey(secretKey);
  },

  x25519(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
    requireLength(secretKey, KEY_LENGTH, 'secretKey');
    requirePeerKey(publicKey, 'publicKey');
    let shared: Uint8Array;
    try {
      shared = x25519.getSharedSecret(secretKey, publicKey);
    } catch (error) {
      // noble rejects low-order inputs by throwing; lengths were checked above.
      throw lowOrderError(error);
    }
    if (isAllZero(shared)) throw lowOrderError();
    return shared;
  },

  edPublicToX25519(publicKey: Uint8Array): Uint8Array {
    requirePeerKey(publicKey, 'publicKey');
    try {
      return ed25519.utils.toMontgomery(publicKey);
    } catch (error) {
      throw new MccError('ERR_CRYPTO', 'invalid Ed25519 public key', { cause: error });
    }
  },

  edSecretToX25519(secretKey: Uint8Array): Uint8Array {
    requireLength(secretKey, KEY_LENGTH, 'secretKey');
    // noble may hand back a subarray of the 64-byte hash; copy so the prefix half is not retained.
    return Uint8Array.from(ed25519.utils.toMontgomerySecret(secretKey));
  },

  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array {
    checkAeadArguments(key, nonce, plaintext, aad);
    return new ChaCha20Poly1305(key).seal(nonce, plaintext, aad);
  },

  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array | null {
    checkAeadArguments(key, nonce, sealed, aad);
    if (sealed.length < TAG_LENGTH) return null;
    try {
      return new ChaCha20Poly1305(key).open(nonce, sealed, aad);
    } catch {
      return null;
    }
  },

  // stablelib works block by block (the keystream XOR reads each block before writing it,
  // and open authenticates before decrypting), so exact in-place use is safe.
  sealInto(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined, out: Uint8Array, outOffset: number): void {
    const length = plaintext.length + TAG_LENGTH;
    checkInto(key, nonce, out, outOffset, length);
    new ChaCha20Poly1305(key).seal(nonce, plaintext, aad, out.subarray(outOffset, outOffset + length));
  },

  openInto(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array | undefined, out: Uint8Array, outOffset: number): boolean {
    const length = sealed.length - TAG_LENGTH;
    if (length < 0) return false;
    checkInto(key, nonce, out, outOffset, length);
    try {
      return new ChaCha20Poly1305(key).open(nonce, sealed, aad, out.subarray(outOffset, outOffset + length)) !== null;
    } catch {
      return false;
    }
  },
});
