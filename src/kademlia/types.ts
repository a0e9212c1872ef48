/**
 * The Kademlia seam: what the DHT core needs from the node (outgoing RPCs over sealed
 * sessions) and the plain data it exchanges. Nothing here knows about sockets or the codec.
 */
import type { Address } from '../util/address.js';

/** Length of node IDs, keys and key-space positions (bytes). */
export const ID_LENGTH = 32;

/** A remote node whose session authenticated: its ID (Ed25519 public key) and the address it speaks from. */
export interface Contact {
  /** 32-byte node ID (Ed25519 public key). Its key-space position is SHA-256 of it. */
  id: Uint8Array;
  /** The address its authenticated messages come from. */
  address: Address;
}

/**
 * A value stored in the DHT. A key holds a set of records, at most one per author
 * (immutable values have an empty author and are their own proof: key = hash of value).
 * The signature covers every other field (`encodeRecordForSigning` in record.ts).
 */
export interface SignedRecord {
  /** 32-byte DHT key the record is stored under. */
  key: Uint8Array;
  /** Author's Ed25519 public key (32 bytes); empty for immutable values. */
  author: Uint8Array;
  /** Author's sequence number: a higher one replaces a lower one from the same author. */
  seq: number;
  /** Absolute wall-clock expiry, milliseconds since the Unix epoch. */
  expiresAt: number;
  /** Payload, at most 1000 bytes (`MAX_VALUE_SIZE`); empty when `withdrawn`. */
  value: Uint8Array;
  /** Optional salt of a mutable value (key = hash of author and salt). */
  salt?: Uint8Array;
  /** A signed tombstone: served until expiry so a replay of the older live record cannot resurrect it. */
  withdrawn?: boolean;
  /** Ed25519 signature (64 bytes) by `author`; empty for immutable values. */
  signature: Uint8Array;
}

/** Answer to FIND_NODE: the responder's closest contacts and a write token for a later STORE. */
export interface FindNodeResult {
  contacts: Contact[];
  token?: Uint8Array;
}

/** Answer to FIND_VALUE: records held under the key (maybe none) plus closer contacts. */
export interface FindValueResult extends FindNodeResult {
  /** The first records held under the key (all of them when the network does not page). */
  records: SignedRecord[];
  /**
   * Records the responder holds under the key, when it may be more than `records` carries;
   * the reader fetches the rest with {@link KadNetwork.findValuePage} after the lookup.
   */
  total?: number;
}

/** One further page of a holder's records under a key (see {@link KadNetwork.findValuePage}). */
export interface FindValuePage {
  /** Records starting at the requested offset (possibly fewer than asked: what fits one answer). */
  records: SignedRecord[];
  /** Records the responder holds under the key now. */
  total: number;
}

/**
 * Outgoing RPCs, implemented by the node over sealed sessions (or by an in-memory
 * network in tests). Every call rejects on timeout, loss or abort; the DHT always
 * passes a signal with its own deadline, so implementations need no timer of their own.
 * Requests carry the caller's client-mode flag (see {@link ObserveOptions.clientMode}).
 */
export interface KadNetwork {
  ping(to: Contact, signal?: AbortSignal): Promise<void>;
  findNode(to: Contact, target: Uint8Array, signal?: AbortSignal): Promise<FindNodeResult>;
  /**
   * FIND_VALUE. A network that implements {@link KadNetwork.findValuePage} answers with the
   * first page only (contacts, first records, `total`), so a lookup never waits for a large
   * record set; one without it returns every record here.
   */
  findValue(to: Contact, key: Uint8Array, signal?: AbortSignal): Promise<FindValueResult>;
  /**
   * Records `offset`.. of `to`'s set under `key`, at most `limit` (0 = as many as fit one
   * answer). Optional: networks that page FIND_VALUE answers implement it.
   */
  findValuePage?(to: Contact, key: Uint8Array, offset: number, limit: number, signal?: AbortSignal): Promise<FindValuePage>;
  /** Bytes of records one page carries, for sizing parallel page requests. Default 1,000. */
  readonly pageBytes?: number;
  store(to: Contact, key: Uint8Array, record: SignedRecord, token: Uint8Array, signal?: AbortSignal): Promise<void>;
  /** Smoothed RTT to `to` in ms when measured; drives adaptive lookup timeouts. */
  rtt?(to: Contact): number | undefined;
}

/** Facts about an authenticated inbound message, passed to `observe`. */
export interface ObserveOptions {
  /**
   * The sender's client-mode flag, as its request carried it: true (unreachable) means it is
   * served but removed from, and kept out of, the routing table; false lets it back in.
   * Undefined (answers, which carry no flag) keeps out a peer that last said true.
   */
  clientMode?: boolean;
}

/** Outcome of a STORE on the receiving side. */
export type StoreResult = { ok: true } | { ok: false; reason: 'token' | 'invalid' | 'stale' | 'limit' | 'expired' };

/** Largest record value in bytes. */
export const MAX_VALUE_SIZE = 1000;
/** Largest salt of a mutable value in bytes. */
export const MAX_SALT_SIZE = 64;
