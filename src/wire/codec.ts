/**
 * Envelope codec: the one entry point the session layer uses to turn the plaintext of
 * a datagram into a typed message and back.
 *
 * Backed by the static code `pbjs` generated from proto/mcc.proto (see bench/codec.ts for
 * the measurement that picked it over reflection). Decoded messages follow proto3
 * semantics: absent scalars read as their default (0, false, empty bytes), absent
 * sub-messages as `null`, and `body` names the oneof member that is set.
 */
import { MccError } from '../errors.js';
import { MAX_ENVELOPE_SIZE } from './constants.js';
import { EnvelopeBodyKinds, EnvelopeCodec } from './generated/mcc.types.js';
import type { Envelope, EnvelopeBodyKind } from './generated/mcc.types.js';
import { encodeWithEncodedContacts, hasEncodedContacts } from './encoded-contacts.js';

export type * from './generated/mcc.types.js';
export { EnvelopeBodyKinds } from './generated/mcc.types.js';
export { ENCODED_CONTACTS, encodeContactEntry, withEncodedContacts, type WithEncodedContacts } from './encoded-contacts.js';

/**
 * Encodes an Envelope to protobuf bytes.
 * @param envelope the message; set exactly one body member (`ping`, `pong`, ...). A FIND answer
 *   body may carry pre-encoded contacts ({@link withEncodedContacts}): same bytes, less work.
 * @param maxBytes size limit, by default {@link MAX_ENVELOPE_SIZE} (what fits in one session datagram).
 * @throws MccError `ERR_DATAGRAM_TOO_LARGE` when the encoding exceeds `maxBytes`.
 */
export function encodeEnvelope(envelope: Envelope, maxBytes: number = MAX_ENVELOPE_SIZE): Uint8Array {
  const bytes = hasEncodedContacts(envelope) ? encodeWithEncodedContacts(envelope) : EnvelopeCodec.encode(envelope).finish();
  if (bytes.length > maxBytes) {
    throw new MccError('ERR_DATAGRAM_TOO_LARGE', `encoded envelope is ${bytes.length} bytes, limit ${maxBytes}`, {
      details: { size: bytes.length, limit: maxBytes },
    });
  }
  return bytes;
}

/**
 * What protobufjs' reader and the generated decoders throw on bad wire bytes: a plain
 * `Error` or `RangeError` with one of these messages (protobufjs/src/reader.js, mcc.pb.ts).
 */
const WIRE_ERROR_MESSAGE =
  /^(index out of range|invalid varint encoding|invalid tag encoding|invalid length encoding|invalid wire type|invalid end group tag|illegal tag|missing end group|max depth exceeded)/;

/** True when `error` is protobufjs reporting malformed input (not a bug in the decoder or its caller). */
function isWireError(error: unknown): boolean {
  return error instanceof Error && (error.constructor === Error || error.constructor === RangeError) && WIRE_ERROR_MESSAGE.test(error.message);
}

/**
 * Decodes protobuf bytes into an Envelope. Unknown fields (from newer peers) are skipped.
 * @throws MccError `ERR_DECODE` on malformed input; receive paths catch it, drop and count.
 *   Any other exception (a `TypeError`, say) is a bug, not bad input, and propagates as it is:
 *   the session layer counts it as an `internal` drop.
 */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  try {
    return EnvelopeCodec.decode(bytes);
  } catch (cause) {
    if (!isWireError(cause)) throw cause;
    throw new MccError('ERR_DECODE', 'malformed envelope', { cause });
  }
}

/**
 * Which body member is set, or undefined when none is. Works on decoded messages and on
 * plain objects built by hand (first non-null member in field-number order).
 */
export function envelopeBodyKind(envelope: Envelope): EnvelopeBodyKind | undefined {
  if (envelope.body !== undefined) return envelope.body;
  for (const kind of EnvelopeBodyKinds) if (envelope[kind] != null) return kind;
  return undefined;
}
