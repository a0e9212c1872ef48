/**
 * FIND_NODE / FIND_VALUE answers from contacts encoded once. Every answer carries up to
 * 20 contacts, mostly the same table entries answer after answer, so the DHT keeps each
 * entry's protobuf bytes next to the entry and an answer is a concatenation of them.
 *
 * The bytes are exactly what the generated encoder writes (proto3, fields in number
 * order, defaults omitted; test/wire/encoded-contacts.test.ts checks byte equality), so
 * the wire format does not change: only who writes it.
 */
import type { Envelope, FindNodeResult, FindValueResult } from './generated/mcc.types.js';
import { FindValueResultCodec } from './generated/mcc.types.js';

/**
 * Marks a `findNodeResult` / `findValueResult` body whose contacts come pre-encoded: the
 * entries (from {@link encodeContactEntry}) replace the body's `contacts` on the wire.
 */
export const ENCODED_CONTACTS: unique symbol = Symbol('mcc.encodedContacts');

/** A FIND answer body that may carry pre-encoded contacts (see {@link withEncodedContacts}). */
export type WithEncodedContacts<T> = T & { [ENCODED_CONTACTS]?: Uint8Array[] };

/**
 * Attaches pre-encoded contact entries to a FIND answer body; `body.contacts` must be empty
 * (the entries are the contacts). Returns `body`.
 */
export function withEncodedContacts<T extends FindNodeResult | FindValueResult>(body: T, entries: Uint8Array[]): WithEncodedContacts<T> {
  if (body.contacts != null && body.contacts.length > 0) throw new RangeError('withEncodedContacts: body.contacts must be empty');
  (body as WithEncodedContacts<T>)[ENCODED_CONTACTS] = entries;
  return body;
}

/**
 * One element of a `repeated Contact contacts = 1` field: tag, length and the Contact
 * `{ id = 1, address = 2 { ip = 1, port = 2 } }`, as the generated encoder writes it.
 * @param id node ID (32 bytes; any length below 128 works).
 * @param ip 4 or 16 address bytes.
 * @param port 0..65535 (0 is omitted, as proto3 does).
 */
export function encodeContactEntry(id: Uint8Array, ip: Uint8Array, port: number): Uint8Array {
  const portSize = port === 0 ? 0 : 1 + varintSize(port);
  const addressSize = (ip.length > 0 ? 2 + ip.length : 0) + portSize;
  const contactSize = (id.length > 0 ? 2 + id.length : 0) + 1 + varintSize(addressSize) + addressSize;
  const out = new Uint8Array(1 + varintSize(contactSize) + contactSize);
  let at = 0;
  out[at++] = 0x0a; // contacts = 1, length-delimited
  at = writeVarint(out, at, contactSize);
  if (id.length > 0) at = writeBytes(out, at, 0x0a, id); // id = 1
  out[at++] = 0x12; // address = 2
  at = writeVarint(out, at, addressSize);
  if (ip.length > 0) at = writeBytes(out, at, 0x0a, ip); // ip = 1
  if (port !== 0) {
    out[at++] = 0x10; // port = 2, varint
    writeVarint(out, at, port);
  }
  return out;
}

/** True when `envelope`'s body carries pre-encoded contacts. */
export function hasEncodedContacts(envelope: Envelope): boolean {
  const body = envelope.findNodeResult ?? envelope.findValueResult;
  return body != null && ENCODED_CONTACTS in body;
}

/**
 * Encodes an Envelope whose FIND answer body carries pre-encoded contacts (see
 * {@link hasEncodedContacts}), byte for byte as the generated encoder would encode the same
 * envelope with those contacts as objects. Only the header fields 1-6 and that one body
 * member are written: an answer we build carries nothing else.
 */
export function encodeWithEncodedContacts(envelope: Envelope): Uint8Array {
  const nodeBody = envelope.findNodeResult;
  const isNode = nodeBody != null;
  const body = (isNode ? nodeBody : envelope.findValueResult) as WithEncodedContacts<FindNodeResult & FindValueResult>;
  const entries = body[ENCODED_CONTACTS] ?? [];
  // The fields after `contacts` (token; records, offset, total): rare or small, left to the generated code.
  let rest: Uint8Array = EMPTY;
  if (isNode) {
    if (body.token != null && body.token.length > 0) rest = bytesField(0x12, body.token);
  } else if ((body.token != null && body.token.length > 0) || (body.records != null && body.records.length > 0) || body.offset || body.total) {
    // `contacts` is empty (the entries are the contacts), so this writes fields 2-5 only.
    rest = FindValueResultCodec.encode(body).finish();
  }
  let bodySize = rest.length;
  for (const entry of entries) bodySize += entry.length;
  const version = envelope.version ?? 0;
  const rid = envelope.rid ?? 0;
  const token = envelope.token;
  const newToken = envelope.newToken;
  const padding = envelope.padding;
  let size = 2 + varintSize(bodySize) + bodySize; // body tag (21 or 23: two bytes), length, body
  if (version !== 0) size += 1 + varintSize(version);
  if (rid !== 0) size += 1 + varintSize(rid);
  if (envelope.response === true) size += 2;
  if (token != null && token.length > 0) size += 1 + varintSize(token.length) + token.length;
  if (newToken != null && newToken.length > 0) size += 1 + varintSize(newToken.length) + newToken.length;
  if (padding != null && padding.length > 0) size += 1 + varintSize(padding.length) + padding.length;
  const out = new Uint8Array(size);
  let at = 0;
  if (version !== 0) {
    out[at++] = 0x08;
    at = writeVarint(out, at, version);
  }
  if (rid !== 0) {
    out[at++] = 0x10;
    at = writeVarint(out, at, rid);
  }
  if (envelope.response === true) {
    out[at++] = 0x18;
    out[at++] = 1;
  }
  if (token != null && token.length > 0) at = writeBytes(out, at, 0x22, token);
  if (newToken != null && newToken.length > 0) at = writeBytes(out, at, 0x2a, newToken);
  if (padding != null && padding.length > 0) at = writeBytes(out, at, 0x32, padding);
  out[at++] = isNode ? 0xaa : 0xba; // field 21 / 23, length-delimited: (n << 3 | 2) as a two-byte varint
  out[at++] = 0x01;
  at = writeVarint(out, at, bodySize);
  for (const entry of entries) {
    out.set(entry, at);
    at += entry.length;
  }
  out.set(rest, at);
  return out;
}

const EMPTY = new Uint8Array(0);

function bytesField(tag: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + varintSize(bytes.length) + bytes.length);
  writeBytes(out, 0, tag, bytes);
  return out;
}

function writeBytes(out: Uint8Array, at: number, tag: number, bytes: Uint8Array): number {
  out[at++] = tag;
  at = writeVarint(out, at, bytes.length);
  out.set(bytes, at);
  return at + bytes.length;
}

/** Bytes of `value` (a uint32) as a protobuf varint. */
function varintSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

function writeVarint(out: Uint8Array, at: number, value: number): number {
  let v = value >>> 0;
  while (v >= 0x80) {
    out[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[at++] = v;
  return at;
}
