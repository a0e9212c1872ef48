/**
 * The routing table's public types (routing-table.ts holds the table itself).
 */
import type { Clock } from '../util/clock.js';
import type { Contact } from './types.js';

/** A snapshot of one contact in the table (built on demand; changing it changes nothing). */
export interface TableEntry {
  contact: Contact;
  /** SHA-256 of the contact's ID. */
  position: Uint8Array;
  /** Clock time of the last authenticated message from it. */
  lastSeen: number;
  /** Consecutive failed requests since it was last seen. */
  failures: number;
  /** Subnet group of its address (see subnetGroup), cached for the diversity rule. */
  group: string | number | undefined;
}

/** Routing-table parameters. */
export interface RoutingTableOptions {
  /** Our own position (SHA-256 of our node ID). */
  self: Uint8Array;
  clock: Clock;
  /** Bucket size. Default 20. */
  k?: number;
  /** Replacement-cache size per bucket. Default k. */
  replacements?: number;
  /** Most contacts of one IPv4 /24 or IPv6 /48 per bucket (loopback and LAN exempt). Default 2. */
  maxPerSubnet?: number;
  /** Consecutive request failures after which a contact is dropped. Default 2. */
  maxFailures?: number;
  /** A full bucket pings its oldest entry only if that entry was silent this long, ms; fresher ones are known alive. Default 60 s. */
  pingAfterMs?: number;
  /** Size multipliers of the first buckets (bucket 0 = the far half of the key space). Default [8, 4, 2]. */
  wideBuckets?: readonly number[];
}

/**
 * Turns a contact into what an answer carries (its wire encoding), or null when it has
 * none. `id` is a view valid only during the call. See `RoutingTable.closestEncoded`.
 */
export type ContactEncoder<T> = (id: Uint8Array, host: string, port: number) => T | null;

/** What `RoutingTable.observe` did. `ping` asks the caller to ping `stale` and report back. */
export type ObserveOutcome = { kind: 'updated' | 'added' | 'replacement' | 'rejected' } | { kind: 'ping'; stale: TableEntry };
