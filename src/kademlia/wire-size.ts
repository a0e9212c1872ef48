/**
 * Size estimates of records and contacts in a FIND_VALUE answer, as protobuf encodes them
 * (proto/mcc.proto: DhtRecord, Contact). The in-memory network cuts answers with them, and
 * readers size their parallel page requests with them; the wire adapter measures exactly.
 */
import type { SignedRecord } from './types.js';

/** Bytes of a length-delimited field of `length` bytes (tag, length varint, payload). */
function bytesField(length: number): number {
  return length === 0 ? 0 : 1 + (length < 128 ? 1 : 2) + length;
}

/** Encoded size of one record inside an answer, framing of the repeated field included. */
export function recordWireBytes(record: SignedRecord): number {
  // seq and expires_at are doubles (tag + 8 bytes); a zero seq is omitted by the encoder.
  const body =
    bytesField(record.author.length) +
    (record.seq !== 0 ? 9 : 0) +
    9 +
    bytesField(record.value.length) +
    bytesField(record.salt?.length ?? 0) +
    (record.withdrawn ? 2 : 0) +
    bytesField(record.signature.length);
  return 1 + (body < 128 ? 1 : 2) + body;
}

/** Encoded size of one IPv4 contact inside an answer (ID, address, framing). */
export const CONTACT_WIRE_BYTES = 2 + 34 + 2 + 6 + 3;

/**
 * Largest encoded record that still travels in one datagram both ways: inside a STORE
 * (envelope header with session token, key, write token, client-mode flag: 1135 - 83)
 * and alone in a FIND_VALUE page (1080). Immutable values of 1000 bytes fit; signed
 * (mutable) records carry a 32-byte author and a 64-byte signature besides, so their
 * values must be about 100 bytes smaller, and smaller still by the length of a salt.
 */
export const MAX_RECORD_WIRE_BYTES = 1052;

/** True when `record` fits {@link MAX_RECORD_WIRE_BYTES}. */
export function recordFitsDatagram(record: SignedRecord): boolean {
  return recordWireBytes(record) <= MAX_RECORD_WIRE_BYTES;
}
