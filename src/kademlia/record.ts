/**
 * Signed DHT records: canonical signing bytes, creation, validation and ordering.
 * Storing nodes and readers apply the same rules, so a record a holder accepts is one
 * a reader accepts, and a holder can neither alter a record nor resurrect an old one.
 */
import type { CryptoSuite, KeyPair } from '../crypto/types.js';
import { invalidArgument } from '../errors.js';
import { immutableKey, mutableKey, sameId } from './keyspace.js';
import { verifyCached } from './verified-cache.js';
import { ID_LENGTH, MAX_SALT_SIZE, MAX_VALUE_SIZE, type SignedRecord } from './types.js';

/** Domain separation of record signatures from every other signature a node makes. */
const SIGNING_CONTEXT = new TextEncoder().encode('mcc/record/v1\0');
const SIGNATURE_LENGTH = 64;
const FLAG_WITHDRAWN = 1;
const FLAG_SALT = 2;

/** Why a record was refused. */
export type RecordProblem = 'malformed' | 'key' | 'signature' | 'expired' | 'ttl';

function writeUint64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, Math.floor(value / 0x1_0000_0000));
  view.setUint32(offset + 4, value >>> 0);
}

/**
 * The bytes an author signs: context || key || author length || author || seq (u64 BE)
 * || expiresAt (u64 BE) || flags || salt length || salt || value length (u16 BE) || value.
 * Every field is length-prefixed or fixed, so two different records never share bytes.
 */
export function encodeRecordForSigning(record: Omit<SignedRecord, 'signature'>): Uint8Array {
  const salt = record.salt ?? new Uint8Array(0);
  const size = SIGNING_CONTEXT.length + ID_LENGTH + 1 + record.author.length + 8 + 8 + 1 + 1 + salt.length + 2 + record.value.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let offset = 0;
  out.set(SIGNING_CONTEXT, offset);
  offset += SIGNING_CONTEXT.length;
  out.set(record.key, offset);
  offset += ID_LENGTH;
  out[offset++] = record.author.length;
  out.set(record.author, offset);
  offset += record.author.length;
  writeUint64(view, offset, record.seq);
  offset += 8;
  writeUint64(view, offset, record.expiresAt);
  offset += 8;
  out[offset++] = (record.withdrawn ? FLAG_WITHDRAWN : 0) | (record.salt ? FLAG_SALT : 0);
  out[offset++] = salt.length;
  out.set(salt, offset);
  offset += salt.length;
  view.setUint16(offset, record.value.length);
  offset += 2;
  out.set(record.value, offset);
  return out;
}

/** Immutable record of `value` (key = hash of value, no author, no signature). */
export function createImmutableRecord(suite: CryptoSuite, value: Uint8Array, expiresAt: number): SignedRecord {
  checkValue(value);
  checkExpiry(expiresAt);
  return { key: immutableKey(suite, value), author: new Uint8Array(0), seq: 0, expiresAt, value, signature: new Uint8Array(0) };
}

/** Fields of a record an author signs (see {@link signRecord}). */
export interface RecordFields {
  key: Uint8Array;
  seq: number;
  expiresAt: number;
  value: Uint8Array;
  salt?: Uint8Array;
  withdrawn?: boolean;
}

/** Signs a record under any key (discovery's provider sets use this with service keys). */
export function signRecord(suite: CryptoSuite, keyPair: KeyPair, fields: RecordFields): SignedRecord {
  if (!(fields.key instanceof Uint8Array) || fields.key.length !== ID_LENGTH) throw invalidArgument('key', 'must be 32 bytes');
  if (!Number.isSafeInteger(fields.seq) || fields.seq < 0) throw invalidArgument('seq', 'must be a non-negative safe integer');
  checkValue(fields.value);
  checkExpiry(fields.expiresAt);
  if (fields.withdrawn && fields.value.length > 0) throw invalidArgument('value', 'a withdrawal carries no value');
  if (fields.salt !== undefined && (!(fields.salt instanceof Uint8Array) || fields.salt.length > MAX_SALT_SIZE)) {
    throw invalidArgument('salt', `must be a Uint8Array of at most ${MAX_SALT_SIZE} bytes`);
  }
  const unsigned: Omit<SignedRecord, 'signature'> = {
    key: fields.key,
    author: keyPair.publicKey,
    seq: fields.seq,
    expiresAt: fields.expiresAt,
    value: fields.value,
  };
  if (fields.salt !== undefined) unsigned.salt = fields.salt;
  if (fields.withdrawn) unsigned.withdrawn = true;
  return { ...unsigned, signature: suite.sign(encodeRecordForSigning(unsigned), keyPair.secretKey) };
}

/** Mutable value record: key = SHA-256("mcc/mutable/" || author || salt). */
export function createMutableRecord(
  suite: CryptoSuite,
  keyPair: KeyPair,
  fields: { value: Uint8Array; seq: number; expiresAt: number; salt?: Uint8Array; withdrawn?: boolean },
): SignedRecord {
  return signRecord(suite, keyPair, { ...fields, key: mutableKey(suite, keyPair.publicKey, fields.salt) });
}

function checkValue(value: unknown): void {
  if (!(value instanceof Uint8Array) || value.length > MAX_VALUE_SIZE) {
    throw invalidArgument('value', `must be a Uint8Array of at most ${MAX_VALUE_SIZE} bytes`);
  }
}

function checkExpiry(expiresAt: unknown): void {
  if (!Number.isSafeInteger(expiresAt) || (expiresAt as number) < 0) throw invalidArgument('expiresAt', 'must be a non-negative integer (ms since epoch)');
}

/** True for an immutable (unsigned, content-addressed) record. */
export function isImmutable(record: SignedRecord): boolean {
  return record.author.length === 0;
}

/** True when `record` is the mutable value its key names (key = hash of its author and salt). */
export function isBoundMutable(suite: CryptoSuite, record: SignedRecord): boolean {
  return record.author.length === ID_LENGTH && sameId(mutableKey(suite, record.author, record.salt), record.key);
}

/** Structural check on untrusted input (never throws). */
function wellFormed(record: SignedRecord): boolean {
  if (record === null || typeof record !== 'object') return false;
  const { key, author, seq, expiresAt, value, salt, signature, withdrawn } = record;
  if (!(key instanceof Uint8Array) || key.length !== ID_LENGTH) return false;
  if (!(author instanceof Uint8Array) || (author.length !== 0 && author.length !== ID_LENGTH)) return false;
  if (!(signature instanceof Uint8Array) || !(value instanceof Uint8Array)) return false;
  if (!Number.isSafeInteger(seq) || seq < 0 || !Number.isSafeInteger(expiresAt) || expiresAt < 0) return false;
  if (value.length > MAX_VALUE_SIZE) return false;
  if (salt !== undefined && (!(salt instanceof Uint8Array) || salt.length > MAX_SALT_SIZE)) return false;
  if (withdrawn !== undefined && typeof withdrawn !== 'boolean') return false;
  if (withdrawn && value.length > 0) return false;
  return true;
}

/**
 * Validates an untrusted record found or stored under `key` at wall time `now`.
 * Returns null when acceptable, else the problem. `maxTtlMs` bounds how far in the
 * future its expiry may lie (so nobody pins a record for years). Never throws.
 */
export function checkRecord(suite: CryptoSuite, record: SignedRecord, key: Uint8Array, now: number, maxTtlMs: number): RecordProblem | null {
  if (!wellFormed(record)) return 'malformed';
  if (!sameId(record.key, key)) return 'key';
  if (record.expiresAt <= now) return 'expired';
  if (record.expiresAt > now + maxTtlMs) return 'ttl';
  if (isImmutable(record)) {
    if (record.signature.length !== 0 || record.salt !== undefined || record.withdrawn || record.seq !== 0) return 'malformed';
    return sameId(immutableKey(suite, record.value), key) ? null : 'key';
  }
  if (record.signature.length !== SIGNATURE_LENGTH) return 'signature';
  return verifyCached(suite, record.signature, encodeRecordForSigning(record), record.author) ? null : 'signature';
}

/**
 * True when `next` may replace `current` from the same author: a higher seq, or the same
 * seq re-signed with a later expiry (an author extending its record's life).
 */
export function supersedes(next: SignedRecord, current: SignedRecord): boolean {
  return next.seq > current.seq || (next.seq === current.seq && next.expiresAt > current.expiresAt);
}

/** Hex of the author (empty string for immutable records): the identity a key's set is distinct by. */
export function authorKey(record: SignedRecord): string {
  return Buffer.from(record.author.buffer, record.author.byteOffset, record.author.byteLength).toString('hex');
}
