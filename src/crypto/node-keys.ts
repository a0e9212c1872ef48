/**
 * Raw 32-byte Ed25519/X25519 keys <-> `node:crypto` KeyObjects, fast.
 *
 * Node 20 cannot import raw keys directly. The obvious route, DER (PKCS#8/SPKI), goes
 * through OpenSSL 3's generic decoder and measured ~10x slower than JWK import (about
 * 2-6k/s against 14-60k/s), and DER export of a public key ~30x slower than JWK export.
 * So keys travel as JWK, with DER kept as the fallback.
 *
 * JWK private-key import requires an `x` (public key) member that Node ignores, deriving
 * the public key from `d` itself. We do not know `x` before importing, so we pass a
 * placeholder -- but only after a one-time self-check, against an RFC 8032 vector, has
 * proved this Node derives the public key from `d`. Otherwise we fall back to DER.
 */

import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { KEY_LENGTH } from './bytes.js';
import { KeyObjectCache } from './key-object-cache.js';

/** The two curves we import keys for, with their JWK curve names and DER headers (RFC 8410). */
type Curve = 'Ed25519' | 'X25519';

/** PKCS#8 headers wrapping a raw 32-byte private key (RFC 8410 OIDs 1.3.101.112 / .110). */
const PKCS8_PREFIX: Record<Curve, Buffer> = {
  Ed25519: Buffer.from('302e020100300506032b657004220420', 'hex'),
  X25519: Buffer.from('302e020100300506032b656e04220420', 'hex'),
};

const PLACEHOLDER_X = Buffer.alloc(KEY_LENGTH).toString('base64url');

// Long-term secret keys are few per node (identity, its X25519 twin), but one process may
// run hundreds of nodes (simulations, tests, gateways): below that, every first contact
// re-imported the node's own key. Peer public keys are many; both caches stay bounded.
const SECRET_CACHE_SIZE = 512;
const PUBLIC_CACHE_SIZE = 1024;

function base64url(raw: Uint8Array): string {
  return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url');
}

function importPrivateDer(curve: Curve, raw: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX[curve], raw]), format: 'der', type: 'pkcs8' });
}

function importPrivateJwk(curve: Curve, raw: Uint8Array): KeyObject {
  return createPrivateKey({ key: { kty: 'OKP', crv: curve, d: base64url(raw), x: PLACEHOLDER_X }, format: 'jwk' });
}

function importPublicJwk(curve: Curve, raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: curve, x: base64url(raw) }, format: 'jwk' });
}

const hexToBase64url = (hex: string): string => Buffer.from(hex, 'hex').toString('base64url');

/**
 * True when JWK private import with a placeholder `x` yields the right key on this Node:
 * RFC 8032 TEST 1 must give its published public key and signature, and RFC 7748
 * section 6.1 Alice's secret her published public key.
 */
function jwkPrivateImportIsSound(): boolean {
  try {
    const alice = importPrivateJwk('X25519', Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex'));
    const aliceOk = createPublicKey(alice).export({ format: 'jwk' }).x === hexToBase64url('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    if (!aliceOk) return false;
    const secret = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
    const key = importPrivateJwk('Ed25519', secret);
    const publicOk = createPublicKey(key).export({ format: 'jwk' }).x === hexToBase64url('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    const signature = sign(null, new Uint8Array(0), key).toString('hex');
    return (
      publicOk &&
      signature === 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'
    );
  } catch {
    return false;
  }
}

const useJwkPrivate = jwkPrivateImportIsSound();

function importPrivate(curve: Curve, raw: Uint8Array): KeyObject {
  return useJwkPrivate ? importPrivateJwk(curve, raw) : importPrivateDer(curve, raw);
}

/** Cached Ed25519 private KeyObjects (the node's own signing key, once used repeatedly). */
export const edPrivateKeys = new KeyObjectCache({
  capacity: SECRET_CACHE_SIZE,
  secret: true,
  build: (raw) => importPrivate('Ed25519', raw),
});
/** Cached Ed25519 public KeyObjects, keyed by the 32-byte public key. */
export const edPublicKeys = new KeyObjectCache({ capacity: PUBLIC_CACHE_SIZE, build: (raw) => importPublicJwk('Ed25519', raw) });
/** Cached X25519 private KeyObjects: static keys get cached, ephemeral handshake keys do not. */
export const xPrivateKeys = new KeyObjectCache({
  capacity: SECRET_CACHE_SIZE,
  secret: true,
  build: (raw) => importPrivate('X25519', raw),
});
/** Cached X25519 public KeyObjects, keyed by the 32-byte public key. */
export const xPublicKeys = new KeyObjectCache({ capacity: PUBLIC_CACHE_SIZE, build: (raw) => importPublicJwk('X25519', raw) });

/** The raw 32-byte public key of a private KeyObject (via JWK export, the fast path). */
export function rawPublicKey(privateKey: KeyObject): Uint8Array {
  const x = createPublicKey(privateKey).export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new Error('node:crypto exported a JWK without "x"');
  return Uint8Array.from(Buffer.from(x, 'base64url'));
}

/** Which private-key import path this process uses (`jwk` or `der`), for diagnostics and tests. */
export const privateKeyImportPath: 'jwk' | 'der' = useJwkPrivate ? 'jwk' : 'der';
