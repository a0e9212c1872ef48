/**
 * The fast crypto suite on `node:crypto` (OpenSSL). Produces the same bytes as the
 * pure-JS {@link nobleCryptoSuite}; only the Ed25519 -> X25519 public-key map comes
 * from `@noble/curves`, because OpenSSL exposes no such conversion.
 */

import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { MccError } from '../errors.js';
import {
  KEY_LENGTH,
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
  toPlain,
} from './bytes.js';
import { KeyObjectCache } from './key-object-cache.js';
import type { CryptoSuite } from './types.js';

// DER headers that wrap a raw 32-byte key as PKCS#8 (private) or SPKI (public).
// OIDs: 1.3.101.112 = Ed25519, 1.3.101.110 = X25519 (RFC 8410).
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const SPKI_PREFIX_LENGTH = 12;

/** Node's `hkdfSync` refuses `info` longer than this; longer ones take the HMAC path. */
const NODE_HKDF_MAX_INFO = 1024;

// Own secret keys are few; peer public keys are many but bounded so floods cost bounded memory.
const SECRET_CACHE_SIZE = 16;
const PUBLIC_CACHE_SIZE = 512;

function der(prefix: Buffer, raw: Uint8Array): Buffer {
  return Buffer.concat([prefix, raw]);
}

const edPrivateKeys = new KeyObjectCache(SECRET_CACHE_SIZE, (raw) =>
  createPrivateKey({ key: der(ED25519_PKCS8_PREFIX, raw), format: 'der', type: 'pkcs8' }),
);
const edPublicKeys = new KeyObjectCache(PUBLIC_CACHE_SIZE, (raw) =>
  createPublicKey({ key: der(ED25519_SPKI_PREFIX, raw), format: 'der', type: 'spki' }),
);
const xPrivateKeys = new KeyObjectCache(SECRET_CACHE_SIZE, (raw) =>
  createPrivateKey({ key: der(X25519_PKCS8_PREFIX, raw), format: 'der', type: 'pkcs8' }),
);
const xPublicKeys = new KeyObjectCache(PUBLIC_CACHE_SIZE, (raw) =>
  createPublicKey({ key: der(X25519_SPKI_PREFIX, raw), format: 'der', type: 'spki' }),
);

/** Raw 32-byte public key out of a KeyObject (the SPKI DER is the fixed prefix plus the key). */
function rawPublicKey(key: KeyObject): Uint8Array {
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return toPlain(spki.subarray(SPKI_PREFIX_LENGTH));
}

/** RFC 5869 expand on HMAC, for `info` lengths `hkdfSync` does not accept. */
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
  scalar[0]! &= 248;
  scalar[31]! &= 127;
  scalar[31]! |= 64;
  return scalar;
}

/** The `node:crypto` suite (OpenSSL): the default, and the fastest on Node. */
export const nodeCryptoSuite: CryptoSuite = Object.freeze({
  name: 'node',

  randomBytes: secureRandomBytes,

  sha256(data: Uint8Array): Uint8Array {
    requireBytes(data, 'data');
    return toPlain(createHash('sha256').update(data).digest());
  },

  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
    requireBytes(key, 'key');
    requireBytes(data, 'data');
    return toPlain(createHmac('sha256', key).update(data).digest());
  },

  hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    checkHkdfArguments(ikm, salt, info, length);
    if (info.length > NODE_HKDF_MAX_INFO) return hkdfViaHmac(ikm, salt, info, length);
    return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length));
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
    const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_LENGTH });
    if (aad !== undefined && aad.length > 0) cipher.setAAD(aad, { plaintextLength: plaintext.length });
    const out = new Uint8Array(plaintext.length + TAG_LENGTH);
    const body = cipher.update(plaintext);
    out.set(body, 0);
    const tail = cipher.final(); // empty for a stream cipher, kept for correctness
    out.set(tail, body.length);
    out.set(cipher.getAuthTag(), plaintext.length);
    return out;
  },

  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array | null {
    checkAeadArguments(key, nonce, sealed, aad);
    if (sealed.length < TAG_LENGTH) return null;
    const bodyLength = sealed.length - TAG_LENGTH;
    try {
      const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_LENGTH });
      decipher.setAuthTag(sealed.subarray(bodyLength));
      if (aad !== undefined && aad.length > 0) decipher.setAAD(aad, { plaintextLength: bodyLength });
      const out = new Uint8Array(bodyLength);
      const body = decipher.update(sealed.subarray(0, bodyLength));
      out.set(body, 0);
      // final() throws when the tag does not authenticate; the plaintext is then discarded.
      out.set(decipher.final(), body.length);
      return out;
    } catch {
      return null;
    }
  },
});
