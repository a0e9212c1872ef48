/**
 * Identify probes: how a node learns the node ID behind a bare bootstrap address.
 * Sealed datagrams need the receiver's public key, which a `host:port` string lacks,
 * so the first contact asks in cleartext. The answer can be spoofed, but that only
 * yields a key nobody at that address can answer for: the sealed ping that follows
 * fails, so nothing is trusted on the strength of this probe alone.
 *
 * Request:  0x14 | nonce (8) | zero padding up to 64 bytes
 * Response: 0x15 | nonce (8) | node ID (32)          (41 bytes: never more than the request)
 */
import { PACKET_IDENTIFY_REQUEST, PACKET_IDENTIFY_RESPONSE } from '../wire/constants.js';

export const IDENTIFY_REQUEST = PACKET_IDENTIFY_REQUEST;
export const IDENTIFY_RESPONSE = PACKET_IDENTIFY_RESPONSE;
export const IDENTIFY_REQUEST_SIZE = 64;
export const IDENTIFY_RESPONSE_SIZE = 41;

/** Builds an identify request for `nonce` (8 bytes). */
export function encodeIdentifyRequest(nonce: Uint8Array): Uint8Array {
  const out = new Uint8Array(IDENTIFY_REQUEST_SIZE);
  out[0] = IDENTIFY_REQUEST;
  out.set(nonce.subarray(0, 8), 1);
  return out;
}

/** Builds the answer carrying our node ID. */
export function encodeIdentifyResponse(nonce: Uint8Array, nodeId: Uint8Array): Uint8Array {
  const out = new Uint8Array(IDENTIFY_RESPONSE_SIZE);
  out[0] = IDENTIFY_RESPONSE;
  out.set(nonce.subarray(0, 8), 1);
  out.set(nodeId.subarray(0, 32), 9);
  return out;
}

/** Nonce of a well-formed request, or null. */
export function parseIdentifyRequest(data: Uint8Array): Uint8Array | null {
  if (data.length !== IDENTIFY_REQUEST_SIZE || data[0] !== IDENTIFY_REQUEST) return null;
  return data.slice(1, 9);
}

/** Nonce and node ID of a well-formed response, or null. */
export function parseIdentifyResponse(data: Uint8Array): { nonce: Uint8Array; nodeId: Uint8Array } | null {
  if (data.length !== IDENTIFY_RESPONSE_SIZE || data[0] !== IDENTIFY_RESPONSE) return null;
  return { nonce: data.slice(1, 9), nodeId: data.slice(9, 41) };
}
