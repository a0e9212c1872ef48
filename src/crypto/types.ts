/**
 * The crypto seam. Two suites implement it with identical wire bytes: `node:crypto`
 * (fast path) and the pure-JS noble/stablelib packages (portable fallback).
 */

/** An Ed25519 key pair. `secretKey` is the 32-byte seed (RFC 8032 private key), `publicKey` the 32-byte public key. */
export interface KeyPair {
  /** The 32-byte Ed25519 public key: the node ID. */
  publicKey: Uint8Array;
  /** The 32-byte seed; keep it secret (`protectKeyPair` hides it from logs). */
  secretKey: Uint8Array;
}

/** Primitive operations every protocol module uses. All keys are raw bytes. */
export interface CryptoSuite {
  /** Suite name for logs and benchmarks, e.g. `node` or `noble`. */
  readonly name: string;
  /** Cryptographically secure random bytes. */
  randomBytes(length: number): Uint8Array;
  /** SHA-256. */
  sha256(data: Uint8Array): Uint8Array;
  /** HMAC-SHA-256. */
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** HKDF-SHA-256 (RFC 5869), extract then expand. */
  hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;

  /** Ed25519 public key from a 32-byte seed. */
  ed25519PublicKey(secretKey: Uint8Array): Uint8Array;
  /** Ed25519 signature (64 bytes) of `message` with the 32-byte seed. */
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  /** Ed25519 verification; false (never throws) on any malformed input. */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;

  /** X25519 public key from a 32-byte secret. */
  x25519PublicKey(secretKey: Uint8Array): Uint8Array;
  /** X25519 shared secret; throws MccError('ERR_CRYPTO') on an all-zero result (low-order point). */
  x25519(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  /** Ed25519 public key to X25519 (birational map); throws ERR_CRYPTO on an invalid point. */
  edPublicToX25519(publicKey: Uint8Array): Uint8Array;
  /** Ed25519 seed to X25519 secret (clamped scalar from SHA-512 of the seed, as RFC 8032 derives it). */
  edSecretToX25519(secretKey: Uint8Array): Uint8Array;

  /** ChaCha20-Poly1305 (RFC 8439) seal: ciphertext followed by the 16-byte tag. `nonce` is 12 bytes. */
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array;
  /** ChaCha20-Poly1305 open; returns null (never throws) when authentication fails. */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array | null;

  /**
   * Optional hot-path form of {@link CryptoSuite.seal}: writes the ciphertext and the
   * 16-byte tag (`plaintext.length + 16` bytes, the same bytes `seal` returns) into
   * `out` at `outOffset` instead of allocating. `plaintext` may be the very bytes at
   * `out[outOffset..]` (sealing in place); any other overlap is not allowed. Only cheap
   * length checks are made (throws ERR_INVALID_ARGUMENT on a bad key, nonce or room).
   */
  sealInto?(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array | undefined, out: Uint8Array, outOffset: number): void;
  /**
   * Optional hot-path form of {@link CryptoSuite.open}: writes the `sealed.length - 16`
   * plaintext bytes into `out` at `outOffset`. Returns false (never throws, writes
   * nothing) when `sealed` is shorter than a tag or does not authenticate. In-place
   * use (`out[outOffset..]` being the very bytes of `sealed`) is allowed.
   */
  openInto?(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array | undefined, out: Uint8Array, outOffset: number): boolean;
}
