/**
 * The LAN announcement datagram (kind 0x16): a node's ID and UDP port, signed by its node
 * key, multicast on the local link so that nodes with no bootstrap address find each other.
 *
 * ```
 * 0x16 | flags (1) | node ID (32) | port (2, BE) | wall-clock ms (6, BE) | Ed25519 signature (64)
 * ```
 *
 * 106 bytes. The signature covers `"mcc-lan-v1" || bytes 0..41`. The address a receiver
 * contacts is the datagram's source IP with the announced port: an announcement never names
 * an address, so it cannot point anyone at a third party's host.
 */
import type { CryptoSuite, KeyPair } from '../crypto/types.js';
import { PACKET_LAN_ANNOUNCE } from '../wire/constants.js';

/** Size of every announcement. */
export const ANNOUNCE_SIZE = 106;
/** Flag bit: the sender has just started and asks the nodes that hear it to announce themselves. */
export const FLAG_QUERY = 0x01;
const SIGNED_LENGTH = 1 + 1 + 32 + 2 + 6;
const DOMAIN = new TextEncoder().encode('mcc-lan-v1');

/** A decoded, signature-checked announcement. */
export interface Announcement {
  /** The announcing node's ID (its Ed25519 public key). */
  id: Uint8Array;
  /** The announcing node's main UDP port. */
  port: number;
  /** The sender's wall clock when it signed, ms since the epoch (orders announcements of one node). */
  time: number;
  /** The sender asks for announcements in return. */
  query: boolean;
}

function signedBytes(packet: Uint8Array): Uint8Array {
  const message = new Uint8Array(DOMAIN.length + SIGNED_LENGTH);
  message.set(DOMAIN);
  message.set(packet.subarray(0, SIGNED_LENGTH), DOMAIN.length);
  return message;
}

/** Builds and signs an announcement for `identity` listening on `port`. */
export function encodeAnnouncement(suite: CryptoSuite, identity: KeyPair, port: number, time: number, query: boolean): Uint8Array {
  const packet = new Uint8Array(ANNOUNCE_SIZE);
  const view = new DataView(packet.buffer);
  packet[0] = PACKET_LAN_ANNOUNCE;
  packet[1] = query ? FLAG_QUERY : 0;
  packet.set(identity.publicKey, 2);
  view.setUint16(34, port);
  // 48 bits of milliseconds last until the year 10889.
  const ms = Math.max(0, Math.floor(time));
  view.setUint16(36, Math.floor(ms / 2 ** 32) & 0xffff);
  view.setUint32(38, ms >>> 0);
  packet.set(suite.sign(signedBytes(packet), identity.secretKey), SIGNED_LENGTH);
  return packet;
}

/** Why an announcement was refused (counted per reason in the LAN stats). */
export type AnnounceRejection = 'malformed' | 'unauthenticated';

/** Parses and verifies `packet`; the reason when it is not a valid announcement. */
export function decodeAnnouncement(suite: CryptoSuite, packet: Uint8Array): Announcement | AnnounceRejection {
  if (packet.length !== ANNOUNCE_SIZE || packet[0] !== PACKET_LAN_ANNOUNCE || (packet[1] & ~FLAG_QUERY) !== 0) return 'malformed';
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const port = view.getUint16(34);
  if (port === 0) return 'malformed';
  const id = packet.slice(2, 34);
  const signature = packet.subarray(SIGNED_LENGTH);
  let valid = false;
  try {
    valid = suite.verify(signature, signedBytes(packet), id);
  } catch {
    valid = false; // a public key that is not a curve point
  }
  if (!valid) return 'unauthenticated';
  return { id, port, time: view.getUint16(36) * 2 ** 32 + view.getUint32(38), query: (packet[1] & FLAG_QUERY) !== 0 };
}
