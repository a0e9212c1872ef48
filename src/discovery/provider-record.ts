/**
 * Provider records: the value a provider signs under a service key (its addresses, relays
 * and metadata, protobuf `ProviderRecordValue`), and the checked, decoded view readers get.
 * The provider's node ID, sequence number and expiry are the signed record's own fields.
 */
import { invalidArgument } from '../errors.js';
import type { Contact, SignedRecord } from '../kademlia/types.js';
import { MAX_VALUE_SIZE } from '../kademlia/types.js';
import type { Address } from '../util/address.js';
import { bytesToHex } from '../util/bytes.js';
import { fromSocketAddress, ipToBytes } from '../wire/address.js';
import { ProviderRecordValueCodec, type ProviderRecordValue, type SocketAddress } from '../wire/generated/mcc.types.js';

/** Largest metadata, in bytes of its UTF-8 JSON encoding. */
export const MAX_METADATA_BYTES = 512;
/**
 * Largest encoded provider record value: the signed record (author, signature, seq,
 * expiry) must still fit one STORE datagram (see MAX_RECORD_WIRE_BYTES in kademlia).
 */
export const MAX_PROVIDER_VALUE_BYTES = 920;
/** Most addresses a record carries (more are dropped, the first ones kept). */
export const MAX_PROVIDER_ADDRESSES = 8;
/** Most relays a record carries. */
export const MAX_PROVIDER_RELAYS = 4;

/** JSON-compatible metadata a provider attaches to its record. */
export type ServiceMetadata = null | boolean | number | string | ServiceMetadata[] | { [key: string]: ServiceMetadata };

/** What a provider advertises besides its identity. */
export interface ProviderInfo {
  /** Where it listens, public first, then LAN. Only IP literals travel; others are left out. */
  addresses: Address[];
  /** Relays it can be reached through (filled by NAT traversal). */
  relays: Contact[];
  /** Small JSON metadata, or undefined. */
  metadata?: ServiceMetadata | undefined;
}

/** One live provider of a service, as a lookup returns it. */
export interface Provider {
  /** The provider's node ID (the record's author, 32 bytes). */
  nodeId: Uint8Array;
  /** Hex of {@link Provider.nodeId}: handy as a map key. */
  id: string;
  /** Where it listens, public first, then LAN (IP literals only). */
  addresses: Address[];
  /** Relays that reach it when it is behind NAT; empty when it needs none. */
  relays: Contact[];
  /** Its small JSON metadata; undefined when it published none. */
  metadata: ServiceMetadata | undefined;
  /** Sequence number of the record (higher is newer). */
  seq: number;
  /** Wall-clock ms since the epoch when the record expires unless republished. */
  expiresAt: number;
  /** Smoothed round-trip time to the provider in ms, when this node measured one. */
  rttMs?: number;
  /** The signed record it came from (for relaying it on, or re-verifying). */
  record: SignedRecord;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * JSON-encodes metadata for a record.
 * @throws MccError `ERR_INVALID_ARGUMENT` naming `metadata` when it is not plain JSON or its encoding exceeds {@link MAX_METADATA_BYTES}.
 */
export function encodeMetadata(metadata: unknown): Uint8Array {
  if (metadata === undefined) return new Uint8Array(0);
  let text: string | undefined;
  try {
    text = JSON.stringify(metadata);
  } catch (cause) {
    throw invalidArgument('metadata', `must be JSON-serialisable (${(cause as Error).message})`);
  }
  if (text === undefined) throw invalidArgument('metadata', 'must be JSON-serialisable');
  const bytes = encoder.encode(text);
  if (bytes.length > MAX_METADATA_BYTES) throw invalidArgument('metadata', `must encode to at most ${MAX_METADATA_BYTES} bytes of JSON (got ${bytes.length})`);
  return bytes;
}

function socketAddress(address: Address): SocketAddress | null {
  const ip = ipToBytes(address.host);
  if (ip === null || !Number.isInteger(address.port) || address.port < 0 || address.port > 65535) return null;
  return { ip, port: address.port };
}

/**
 * Encodes the record value from where the provider listens and its metadata (already
 * encoded by {@link encodeMetadata}). Addresses that are not IP literals are left out;
 * lists are capped ({@link MAX_PROVIDER_ADDRESSES}, {@link MAX_PROVIDER_RELAYS}), which with
 * the metadata limit keeps the value under the DHT's 1000 bytes.
 */
export function encodeProviderValue(info: Pick<ProviderInfo, 'addresses' | 'relays'>, metadata: Uint8Array): Uint8Array {
  const addresses: SocketAddress[] = [];
  for (const address of info.addresses) {
    if (addresses.length >= MAX_PROVIDER_ADDRESSES) break;
    const wire = socketAddress(address);
    if (wire !== null) addresses.push(wire);
  }
  const relays: NonNullable<ProviderRecordValue['relays']> = [];
  for (const relay of info.relays) {
    if (relays.length >= MAX_PROVIDER_RELAYS) break;
    const address = socketAddress(relay.address);
    if (address !== null && relay.id instanceof Uint8Array && relay.id.length === 32) relays.push({ nodeId: relay.id, address });
  }
  const value: ProviderRecordValue = { addresses, relays, metadata };
  const bytes = ProviderRecordValueCodec.encode(value).finish();
  // Unreachable with the caps above; kept as the invariant the DHT relies on.
  if (bytes.length > MAX_PROVIDER_VALUE_BYTES)
    throw invalidArgument('metadata', `provider record would be ${bytes.length} bytes, limit ${MAX_PROVIDER_VALUE_BYTES}`);
  return bytes;
}

/** Decodes an untrusted record value; null when malformed or over a limit (never throws). */
export function decodeProviderValue(bytes: Uint8Array): ProviderInfo | null {
  if (!(bytes instanceof Uint8Array) || bytes.length > MAX_VALUE_SIZE) return null;
  let value: ProviderRecordValue;
  try {
    value = ProviderRecordValueCodec.decode(bytes);
  } catch {
    return null;
  }
  const rawAddresses = value.addresses ?? [];
  const rawRelays = value.relays ?? [];
  if (rawAddresses.length > MAX_PROVIDER_ADDRESSES || rawRelays.length > MAX_PROVIDER_RELAYS) return null;
  const addresses: Address[] = [];
  for (const raw of rawAddresses) {
    const address = fromSocketAddress(raw);
    if (address === null) return null;
    addresses.push(address);
  }
  const relays: Contact[] = [];
  for (const raw of rawRelays) {
    const address = fromSocketAddress(raw.address);
    if (address === null || !(raw.nodeId instanceof Uint8Array) || raw.nodeId.length !== 32) return null;
    relays.push({ id: Uint8Array.from(raw.nodeId), address });
  }
  let metadata: ServiceMetadata | undefined;
  const meta = value.metadata ?? new Uint8Array(0);
  if (meta.length > MAX_METADATA_BYTES) return null;
  if (meta.length > 0) {
    try {
      metadata = JSON.parse(decoder.decode(meta)) as ServiceMetadata;
    } catch {
      return null;
    }
  }
  return { addresses, relays, metadata };
}

/**
 * The provider a record describes, or null when it is a withdrawal, expired at `now`, or
 * its value does not decode. The signature was checked by the DHT before this point.
 */
export function providerFromRecord(record: SignedRecord, now: number): Provider | null {
  if (record.withdrawn || record.expiresAt <= now || record.author.length !== 32) return null;
  const info = decodeProviderValue(record.value);
  if (info === null) return null;
  return {
    nodeId: record.author,
    id: bytesToHex(record.author),
    addresses: info.addresses,
    relays: info.relays,
    metadata: info.metadata,
    seq: record.seq,
    expiresAt: record.expiresAt,
    record,
  };
}
