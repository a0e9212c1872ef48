/**
 * The relayed datagram (byte 0 = 0x13) and the virtual addresses that stand for
 * relay circuits. Layout (docs/nat.md):
 *
 *   0x13 | circuit ID (8 bytes) | inner datagram (a whole 0x11 session or 0x12 tunnel datagram)
 *
 * The relay forwards the bytes unchanged to the circuit's other end, so the inner
 * datagram stays sealed end to end; the relay only reads the circuit ID. The same
 * `0x13 | 8-byte ID` prefix carries hole-punch probes (holepunch-probe.ts): IDs are
 * random, and each node demultiplexes them in one table (relay-transport.ts).
 *
 * A circuit is presented to the layers above as a virtual address in the IPv6
 * discard-only prefix 100::/64 (RFC 6666) carrying the circuit ID, port 1: the
 * session, RPC and tunnel layers address a relayed peer like any other, and a
 * virtual address that somehow reached a real socket would be discarded by routers.
 */
import type { Address } from '../util/address.js';
import { MAX_INNER_DATAGRAM_SIZE, PACKET_RELAYED, RELAY_HEADER_SIZE as WIRE_RELAY_HEADER_SIZE } from '../wire/constants.js';

/** Bytes of a circuit (or probe) ID. */
export const CIRCUIT_ID_SIZE = 8;
/** Bytes a relay adds in front of the inner datagram (the wire constant: kind byte + circuit ID). */
export const RELAY_HEADER_SIZE = WIRE_RELAY_HEADER_SIZE;
/** Largest inner datagram that still fits a relayed datagram within the 1200-byte limit. */
export const MAX_RELAYED_INNER_SIZE = MAX_INNER_DATAGRAM_SIZE;

/** Datagrams a circuit set-up (`RelayConnect.early`, `RelayIncoming.early`) carries at most. */
export const MAX_EARLY_DATAGRAMS = 4;
/**
 * Bytes of early datagrams a set-up carries at most: with the other fields of RelayIncoming
 * (about 80 bytes) the relay's message stays well inside one sealed envelope (1135 bytes).
 */
export const MAX_EARLY_BYTES = 900;

const VIRTUAL_PREFIX = '100::';
const VIRTUAL_PORT = 1;

/** Wraps `inner` for the circuit `circuitId`. */
export function encodeRelayed(circuitId: Uint8Array, inner: Uint8Array): Uint8Array {
  // Pooled: this runs once per relayed datagram and every byte is written below.
  const out = Buffer.allocUnsafe(RELAY_HEADER_SIZE + inner.length);
  out[0] = PACKET_RELAYED;
  out.set(circuitId, 1);
  out.set(inner, RELAY_HEADER_SIZE);
  return out;
}

/** The ID (hex) of a 0x13 datagram, or null when it is too short or of another kind. */
export function relayedIdHex(data: Uint8Array): string | null {
  if (data.length < RELAY_HEADER_SIZE || data[0] !== PACKET_RELAYED) return null;
  // A table instead of Buffer#toString: this runs for every datagram a relay forwards.
  let hex = '';
  for (let i = 1; i < RELAY_HEADER_SIZE; i++) hex += HEX_BYTES[data[i]];
  return hex;
}

/**
 * The ID of a relayed datagram (bytes 1..8) as two unsigned 32-bit words, high first: a
 * numeric key that costs no string per datagram. The caller checks the length first.
 */
export function relayedIdHigh(data: Uint8Array): number {
  return ((data[1] << 24) | (data[2] << 16) | (data[3] << 8) | data[4]) >>> 0;
}

/** The low word of the ID of a relayed datagram; see {@link relayedIdHigh}. */
export function relayedIdLow(data: Uint8Array): number {
  return ((data[5] << 24) | (data[6] << 16) | (data[7] << 8) | data[8]) >>> 0;
}

/** The header (`0x13 | ID`) every relayed datagram of circuit `circuitId` starts with. */
export function relayedHeader(circuitId: Uint8Array): Uint8Array {
  const header = new Uint8Array(RELAY_HEADER_SIZE);
  header[0] = PACKET_RELAYED;
  header.set(circuitId.subarray(0, CIRCUIT_ID_SIZE), 1);
  return header;
}

const HEX_BYTES: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The virtual address standing for circuit `circuitIdHex` (16 hex digits). */
export function virtualAddress(circuitIdHex: string): Address {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 4) groups.push(parseInt(circuitIdHex.slice(i, i + 4), 16).toString(16));
  return { host: VIRTUAL_PREFIX + groups.join(':'), port: VIRTUAL_PORT };
}

/** True for a circuit's virtual address. */
export function isVirtualAddress(address: Address): boolean {
  return address.port === VIRTUAL_PORT && address.host.startsWith(VIRTUAL_PREFIX);
}

/** The circuit ID (hex) of a virtual address, or undefined for a real address. */
export function circuitIdOf(address: Address): string | undefined {
  if (!isVirtualAddress(address)) return undefined;
  const groups = address.host.slice(VIRTUAL_PREFIX.length).split(':');
  if (groups.length !== 4) return undefined;
  let hex = '';
  for (const group of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(group)) return undefined;
    hex += group.padStart(4, '0');
  }
  return hex;
}
