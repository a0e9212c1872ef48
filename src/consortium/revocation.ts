/**
 * Revocation lists: an organisation signs a sequence-numbered list of revoked node keys and
 * publishes it as a mutable DHT value under its own key (salt "mcc/revocations"), so the
 * DHT's rules apply unchanged: holders verify the signature, readers keep the highest seq,
 * nobody but the organisation can write it. Members fetch it every refresh interval.
 *
 * Value layout: version (1) | issuedAt ms (u64 BE) | count (1) | node keys (32 each).
 * One datagram bounds the list to {@link MAX_REVOKED} keys; certificates expire, so a list
 * only needs the revoked nodes whose certificates are still valid.
 */
import type { CryptoSuite } from '../crypto/types.js';
import { nodeCryptoSuite } from '../crypto/node-suite.js';
import { invalidArgument } from '../errors.js';
import { createMutableRecord, isBoundMutable } from '../kademlia/record.js';
import { mutableKey } from '../kademlia/keyspace.js';
import type { SignedRecord } from '../kademlia/types.js';
import { bytesToHex } from '../util/bytes.js';
import type { Organisation } from './organisation.js';

const VERSION = 1;
const HEADER = 1 + 8 + 1;
/** Salt of the mutable DHT value holding an organisation's revocation list. */
export const REVOCATION_SALT = new TextEncoder().encode('mcc/revocations');
/** Most node keys one list carries (it must fit one signed DHT value). */
export const MAX_REVOKED = 26;
/** Default lifetime of a published list, ms: the organisation re-signs it before then. */
export const DEFAULT_REVOCATION_TTL_MS = 24 * 3600_000;

/** A verified revocation list. */
export interface RevocationList {
  /** The organisation's signing key. */
  readonly orgKey: Uint8Array;
  /** Sequence number: a list replaces any with a lower one. */
  readonly seq: number;
  /** When the organisation signed it, ms since the epoch. */
  readonly issuedAt: number;
  /** Revoked node IDs, hex. */
  readonly revoked: ReadonlySet<string>;
}

/** The DHT key of an organisation's revocation list. */
export function revocationKey(orgKey: Uint8Array, suite: CryptoSuite = nodeCryptoSuite): Uint8Array {
  return mutableKey(suite, orgKey, REVOCATION_SALT);
}

/**
 * Signs a revocation list as a DHT record (publish it with `node.dht`'s holders, e.g.
 * `putRevocationList` of a running consortium node, or `mcc org revoke`).
 * @throws MccError `ERR_INVALID_ARGUMENT` with more than {@link MAX_REVOKED} keys or a bad key.
 */
export function createRevocationRecord(
  organisation: Organisation,
  revoked: ReadonlyArray<Uint8Array | string>,
  options: { seq?: number; now?: number; ttlMs?: number; suite?: CryptoSuite } = {},
): SignedRecord {
  const suite = options.suite ?? nodeCryptoSuite;
  if (revoked.length > MAX_REVOKED) throw invalidArgument('revoked', `at most ${MAX_REVOKED} node IDs fit one list`);
  const now = options.now ?? Date.now();
  const value = new Uint8Array(HEADER + 32 * revoked.length);
  const view = new DataView(value.buffer);
  value[0] = VERSION;
  view.setUint32(1, Math.floor(now / 0x1_0000_0000));
  view.setUint32(5, now >>> 0);
  value[9] = revoked.length;
  revoked.forEach((entry, index) => {
    const key = typeof entry === 'string' && /^[0-9a-f]{64}$/i.test(entry) ? Uint8Array.from(Buffer.from(entry, 'hex')) : entry;
    if (!(key instanceof Uint8Array) || key.length !== 32) throw invalidArgument(`revoked[${index}]`, 'expected a 32-byte node ID or 64 hex characters');
    value.set(key, HEADER + 32 * index);
  });
  return createMutableRecord(suite, organisation.keyPair, {
    value,
    seq: options.seq ?? now,
    expiresAt: Math.floor(now + (options.ttlMs ?? DEFAULT_REVOCATION_TTL_MS)),
    salt: REVOCATION_SALT,
  });
}

/**
 * The list a record carries, when it is the revocation list of `orgKey` (the record's
 * signature was checked by the DHT read or the caller); null otherwise. Never throws.
 */
export function parseRevocationRecord(record: SignedRecord, orgKey: Uint8Array, suite: CryptoSuite = nodeCryptoSuite): RevocationList | null {
  if (record === null || typeof record !== 'object' || record.withdrawn) return null;
  if (!(record.author instanceof Uint8Array) || Buffer.compare(record.author, orgKey) !== 0) return null;
  if (!(record.salt instanceof Uint8Array) || Buffer.compare(record.salt, REVOCATION_SALT) !== 0 || !isBoundMutable(suite, record)) return null;
  const value = record.value;
  if (!(value instanceof Uint8Array) || value.length < HEADER || value[0] !== VERSION) return null;
  const count = value[9];
  if (count > MAX_REVOKED || value.length !== HEADER + 32 * count) return null;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const revoked = new Set<string>();
  for (let i = 0; i < count; i++) revoked.add(bytesToHex(value.subarray(HEADER + 32 * i, HEADER + 32 * (i + 1))));
  return { orgKey: Uint8Array.from(orgKey), seq: record.seq, issuedAt: view.getUint32(1) * 0x1_0000_0000 + view.getUint32(5), revoked };
}
