/**
 * Request padding for anti-amplification (docs/protocol.md section 6): a responder may send
 * an unvalidated address at most as many bytes as it received, so requests are padded to
 * the size their answer (or the cookie that replaces it) needs.
 */
import { envelopeBodyKind, type Envelope } from '../wire/codec.js';
import { ENVELOPE_BODIES } from '../wire/registry.js';
import { MAX_DATAGRAM_SIZE, MIN_FIRST_CONTACT_DATAGRAM_SIZE, SESSION_OVERHEAD } from '../wire/constants.js';

/** Size first-contact requests are padded to, so a cookie answer always fits within them. */
export const FIRST_CONTACT_SIZE = MIN_FIRST_CONTACT_DATAGRAM_SIZE;

/**
 * Size first-contact requests whose answer may fill a datagram (FIND_NODE, FIND_VALUE) are
 * padded to, as QUIC pads its Initial to 1200: the full answer then fits the 1x budget at
 * once, instead of a cookie and a second round trip on every first contact of a lookup.
 */
export const FIRST_CONTACT_LARGE_ANSWER_SIZE = MAX_DATAGRAM_SIZE;

/** Padded size of a first-contact request: a full datagram when its answer may be that large. */
function firstContactSize(request: Envelope): number {
  const kind = envelopeBodyKind(request);
  return kind !== undefined && ENVELOPE_BODIES[kind].padding === 'large-answer' ? FIRST_CONTACT_LARGE_ANSWER_SIZE : FIRST_CONTACT_SIZE;
}

/** Requests carrying a token are padded to this size: a cookie answer (about 100 bytes) always fits. */
export const TOKEN_REQUEST_SIZE = 128;

/**
 * Pads an encoded request: to {@link TOKEN_REQUEST_SIZE} when it echoes a token (a cookie
 * answer to a stale token still fits), else to its first-contact size.
 */
export function padRequest(encoded: Uint8Array, request: Envelope, carriesToken: boolean): Uint8Array {
  return withPadding(encoded, carriesToken ? TOKEN_REQUEST_SIZE : firstContactSize(request));
}

/** Tag of `Envelope.padding` (field 6, length-delimited). */
const PADDING_TAG = (6 << 3) | 2;

/**
 * Appends an `Envelope.padding` field so that the sealed datagram has at least `size` bytes.
 * Protobuf decoders accept fields in any order, so the encoded envelope need not be rebuilt.
 */
function withPadding(envelope: Uint8Array, size: number): Uint8Array {
  const missing = size - SESSION_OVERHEAD - envelope.length;
  // One missing byte cannot be padded (the field alone costs two): at the datagram limit, stay one short.
  if (missing <= 0 || (missing === 1 && size >= MAX_DATAGRAM_SIZE)) return envelope;
  // The field costs a tag byte and a length varint: 1 byte below 128, else 2.
  const short = missing - 2;
  let length = short < 128 ? Math.max(0, short) : Math.max(128, missing - 3);
  // missing = 130 has no exact fit (127 + 2 is one short, 128 + 3 one over): never go over the datagram limit.
  if (length === 128 && SESSION_OVERHEAD + envelope.length + 3 + length > MAX_DATAGRAM_SIZE) length = 127;
  const header = length < 128 ? [PADDING_TAG, length] : [PADDING_TAG, (length & 0x7f) | 0x80, length >> 7];
  const out = new Uint8Array(envelope.length + header.length + length);
  out.set(envelope);
  out.set(header, envelope.length);
  return out;
}
