/**
 * The X25519 public key of a peer's node ID, for session key agreement.
 *
 * A node ID is an Ed25519 public key: the y-coordinate of a point (255 bits, little-endian)
 * and the sign of x (top bit). Its X25519 twin is the Montgomery u = (1 + y) / (1 - y) mod p,
 * computed here with noble's field helpers. The crypto suites' `edPublicToX25519` first
 * decodes the whole point, which needs a field square root: three times the cost of the
 * rest, and at N = 200 on loopback about 20% of a lookup's CPU, since every first contact
 * pays it on both ends.
 *
 * The session does not need that check. X25519 is defined for every u (Curve25519's twist
 * is secure and clamping clears the cofactor), so an ID that is not a curve point gives a
 * u on the twist, whose shared secret no holder of any curve key can derive: datagrams
 * claiming such an ID fail authentication and are dropped, as forgeries are. IDs are still
 * refused with `ERR_CRYPTO` when y is not canonical (>= p), when y = 1 (the neutral point,
 * 1 - y has no inverse), and, by the suite's X25519, when the result is all zero (low order).
 * For every valid ID the bytes equal the suite's conversion (tested).
 */
import { invert, mod } from '@noble/curves/abstract/modular.js';
import { MccError } from '../errors.js';
import { NODE_ID_SIZE } from '../wire/constants.js';

const P = (1n << 255n) - 19n;

/** u = (1 + y) / (1 - y) mod p of the Ed25519 public key `peerId` (32 bytes, little-endian). @throws MccError `ERR_CRYPTO`. */
export function peerX25519PublicKey(peerId: Uint8Array): Uint8Array {
  if (peerId.length !== NODE_ID_SIZE) throw new MccError('ERR_CRYPTO', `peer ID must be ${NODE_ID_SIZE} bytes`);
  const y = readY(peerId);
  if (y >= P) throw new MccError('ERR_CRYPTO', 'peer ID is not a canonical Ed25519 encoding');
  if (y === 1n) throw new MccError('ERR_CRYPTO', 'peer ID is the neutral point');
  return writeLittleEndian(mod((1n + y) * invert(mod(1n - y, P), P), P));
}

/** The 255-bit y of an Ed25519 encoding (the sign bit of x cleared). */
function readY(bytes: Uint8Array): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, NODE_ID_SIZE);
  return (
    view.getBigUint64(0, true) |
    (view.getBigUint64(8, true) << 64n) |
    (view.getBigUint64(16, true) << 128n) |
    ((view.getBigUint64(24, true) & 0x7fff_ffff_ffff_ffffn) << 192n)
  );
}

function writeLittleEndian(value: bigint): Uint8Array {
  const out = new Uint8Array(32);
  const view = new DataView(out.buffer);
  const mask = (1n << 64n) - 1n;
  for (let i = 0; i < 4; i++) view.setBigUint64(8 * i, (value >> BigInt(64 * i)) & mask, true);
  return out;
}
