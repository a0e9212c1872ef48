/**
 * Service names and the DHT keys they map to. A name is hashed under its own namespace
 * ("mcc/service/"), so a service key can never equal an immutable ("mcc/value/") or
 * mutable ("mcc/mutable/") DHT key, whatever the name or value.
 */
import type { CryptoSuite } from '../crypto/types.js';
import { invalidArgument } from '../errors.js';
import { KEY_NAMESPACE, namespacedKey } from '../kademlia/keyspace.js';

/** Longest service name, in bytes of UTF-8. */
export const MAX_SERVICE_NAME_BYTES = 255;

const encoder = new TextEncoder();
/** A UTF-16 surrogate without its partner: it has no UTF-8 form, so two such names would hash alike. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Checks a service name and returns its UTF-8 bytes.
 * @throws MccError `ERR_INVALID_ARGUMENT` naming `name` unless it is a non-empty, well-formed
 *   string of at most {@link MAX_SERVICE_NAME_BYTES} bytes of UTF-8.
 */
export function encodeServiceName(name: unknown): Uint8Array {
  if (typeof name !== 'string') throw invalidArgument('name', 'must be a string');
  if (name.length === 0) throw invalidArgument('name', 'must not be empty');
  if (LONE_SURROGATE.test(name)) throw invalidArgument('name', 'must be well-formed Unicode (no lone surrogates)');
  const bytes = encoder.encode(name);
  if (bytes.length > MAX_SERVICE_NAME_BYTES) throw invalidArgument('name', `must be at most ${MAX_SERVICE_NAME_BYTES} bytes of UTF-8 (got ${bytes.length})`);
  return bytes;
}

/** DHT key of a service: SHA-256("mcc/service/" || UTF-8 name). Validates the name first. */
export function serviceKey(suite: CryptoSuite, name: string): Uint8Array {
  return namespacedKey(suite, KEY_NAMESPACE.service, encodeServiceName(name));
}
