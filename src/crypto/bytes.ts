/**
 * Byte helpers and argument checks shared by both crypto suites, so that the two
 * suites reject exactly the same inputs in exactly the same way.
 */

import { getRandomValues } from 'node:crypto';
import { MccError, invalidArgument } from '../errors.js';

/** Length in bytes of Ed25519/X25519 keys, X25519 shared secrets and SHA-256 digests. */
export const KEY_LENGTH = 32;
/** Length in bytes of an Ed25519 signature. */
export const SIGNATURE_LENGTH = 64;
/** Length in bytes of a ChaCha20-Poly1305 nonce. */
export const NONCE_LENGTH = 12;
/** Length in bytes of a ChaCha20-Poly1305 authentication tag. */
export const TAG_LENGTH = 16;
/** Largest HKDF-SHA-256 output (RFC 5869: 255 blocks of the hash length). */
export const HKDF_MAX_LENGTH = 255 * 32;

/** `getRandomValues` fills at most 65536 bytes per call (WebCrypto limit). */
const RANDOM_CHUNK = 65536;

/** Cryptographically secure random bytes as a plain `Uint8Array` (shared by both suites). */
export function secureRandomBytes(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) throw invalidArgument('length', 'must be a non-negative integer');
  const out = new Uint8Array(length);
  for (let offset = 0; offset < length; offset += RANDOM_CHUNK) {
    getRandomValues(out.subarray(offset, Math.min(length, offset + RANDOM_CHUNK)));
  }
  return out;
}

/** True when `bytes` is a `Uint8Array` (Buffers included) of exactly `length` bytes. */
export function hasLength(bytes: unknown, length: number): bytes is Uint8Array {
  return bytes instanceof Uint8Array && bytes.length === length;
}

/** Throws `ERR_INVALID_ARGUMENT` unless `bytes` is a `Uint8Array` of `length` bytes. Used for our own keys. */
export function requireLength(bytes: unknown, length: number, argument: string): asserts bytes is Uint8Array {
  if (!hasLength(bytes, length)) throw invalidArgument(argument, `must be a Uint8Array of ${length} bytes`);
}

/** Throws `ERR_INVALID_ARGUMENT` unless `bytes` is a `Uint8Array` of any length. */
export function requireBytes(bytes: unknown, argument: string): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw invalidArgument(argument, 'must be a Uint8Array');
}

/**
 * Throws `ERR_CRYPTO` unless a peer's public key has the right length. Peer keys arrive
 * from the network, so a bad one is a crypto failure rather than a programming error.
 */
export function requirePeerKey(bytes: unknown, argument: string): asserts bytes is Uint8Array {
  if (!hasLength(bytes, KEY_LENGTH)) {
    throw new MccError('ERR_CRYPTO', `${argument} must be ${KEY_LENGTH} bytes`, { details: { argument } });
  }
}

/** Validates HKDF arguments identically for both suites. */
export function checkHkdfArguments(ikm: unknown, salt: unknown, info: unknown, length: unknown): void {
  requireBytes(ikm, 'ikm');
  requireBytes(salt, 'salt');
  requireBytes(info, 'info');
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 1 || length > HKDF_MAX_LENGTH) {
    throw invalidArgument('length', `must be an integer from 1 to ${HKDF_MAX_LENGTH}`);
  }
}

/** Validates AEAD key and nonce (our own values, so a bad one is a programming error). */
export function checkAeadArguments(key: unknown, nonce: unknown, data: unknown, aad: unknown): void {
  requireLength(key, KEY_LENGTH, 'key');
  requireLength(nonce, NONCE_LENGTH, 'nonce');
  requireBytes(data, 'data');
  if (aad !== undefined) requireBytes(aad, 'aad');
}

/** Constant-time check that every byte is zero (detects a low-order X25519 result). */
export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < bytes.length; i++) acc |= bytes[i];
  return acc === 0;
}

/** The error for an X25519 agreement that produced the all-zero secret (a low-order peer key). */
export function lowOrderError(cause?: unknown): MccError {
  return new MccError('ERR_CRYPTO', 'X25519 produced an all-zero shared secret (low-order public key)', { cause });
}

/**
 * Copies a Node `Buffer` into a plain `Uint8Array`, so both suites return the same
 * type and callers never hold a view into Node's shared allocation pool.
 */
export function toPlain(buf: Uint8Array): Uint8Array {
  return new Uint8Array(buf);
}
