/**
 * Hole-punch probes: tiny self-authenticating datagrams that can be sent from any
 * socket (including the extra "birthday" sockets that have no session keys).
 *
 *   0x13 | punch ID (8) | flags (1) | HMAC-SHA-256(punch key, punch ID | flags)[0..16]
 *
 * The punch ID and the 32-byte punch key travel inside the sealed rendezvous
 * (HolepunchOffer), so only the two endpoints can make or check probes; the relay in
 * between cannot. Flags: bit 0 set = sent by the initiator, bit 1 set = an answer
 * to a probe. A probe proves "the holder of the key sent this from that address";
 * the session or tunnel handshake that follows authenticates the path for real.
 */
import { PACKET_RELAYED } from '../wire/constants.js';
import { CIRCUIT_ID_SIZE } from './relay-packet.js';
import type { NatCrypto } from './types.js';

/** Flag: the probe comes from the side that started the punch. */
export const PROBE_FROM_INITIATOR = 0x01;
/** Flag: the probe answers a probe (sent back to where that one came from). */
export const PROBE_ACK = 0x02;
const MAC_SIZE = 16;
/** Bytes of a probe. */
export const PROBE_SIZE = 1 + CIRCUIT_ID_SIZE + 1 + MAC_SIZE;

function mac(crypto: NatCrypto, key: Uint8Array, id: Uint8Array, flags: number): Uint8Array {
  const input = new Uint8Array(CIRCUIT_ID_SIZE + 1);
  input.set(id);
  input[CIRCUIT_ID_SIZE] = flags;
  return crypto.hmacSha256(key, input).subarray(0, MAC_SIZE);
}

/** Builds a probe. */
export function encodeProbe(crypto: NatCrypto, key: Uint8Array, id: Uint8Array, flags: number): Uint8Array {
  const out = new Uint8Array(PROBE_SIZE);
  out[0] = PACKET_RELAYED;
  out.set(id, 1);
  out[1 + CIRCUIT_ID_SIZE] = flags;
  out.set(mac(crypto, key, id, flags), 2 + CIRCUIT_ID_SIZE);
  return out;
}

/** The flags of a valid probe for (`key`, `id`), or null when it is not one. Never throws. */
export function verifyProbe(crypto: NatCrypto, key: Uint8Array, id: Uint8Array, data: Uint8Array): number | null {
  if (data.length !== PROBE_SIZE || data[0] !== PACKET_RELAYED) return null;
  for (let i = 0; i < CIRCUIT_ID_SIZE; i++) if (data[1 + i] !== id[i]) return null;
  const flags = data[1 + CIRCUIT_ID_SIZE];
  if (flags > (PROBE_FROM_INITIATOR | PROBE_ACK)) return null;
  const expected = mac(crypto, key, id, flags);
  let difference = 0;
  for (let i = 0; i < MAC_SIZE; i++) difference |= expected[i] ^ data[2 + CIRCUIT_ID_SIZE + i];
  return difference === 0 ? flags : null;
}
