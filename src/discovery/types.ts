/** The seams of discovery: what it needs from the DHT and from the node that hosts it. */
import type { CryptoSuite, KeyPair } from '../crypto/types.js';
import type { Contact, SignedRecord } from '../kademlia/types.js';
import type { Address } from '../util/address.js';
import type { Clock } from '../util/clock.js';

/** The part of the Kademlia `Dht` that discovery uses (a `Dht` satisfies it). */
export interface DiscoveryDht {
  /** Stores a signed record on the k closest nodes; rejects when no node accepted it. */
  putRecord(record: SignedRecord, options?: { republish?: boolean; signal?: AbortSignal }): Promise<{ stored: number }>;
  /** Every author's latest verified record under `key`, withdrawals included. */
  getRecords(key: Uint8Array, options?: { signal?: AbortSignal; quorum?: number }): Promise<SignedRecord[]>;
  /** Records this node itself holds (optional): lets a cached lookup notice withdrawals stored here. */
  readonly store?: { get(key: Uint8Array): SignedRecord[] };
}

/** What the node tells discovery about itself when a record is (re)published. */
export interface SelfInfo {
  /** Addresses it listens on, public first, then LAN. */
  addresses: Address[];
  /** Relays it keeps sessions with (NAT traversal fills these). */
  relays: Contact[];
}

/** Minimal logger (the node passes its own). */
export interface DiscoveryLogger {
  debug?(message: string, details?: Record<string, unknown>): void;
  warn?(message: string, details?: Record<string, unknown>): void;
}

/** Everything a registration needs from its {@link Discovery}; internal. */
export interface RegistrationContext {
  dht: DiscoveryDht;
  suite: CryptoSuite;
  keyPair: KeyPair;
  clock: Clock;
  wallClock: () => number;
  random: () => number;
  selfInfo: () => SelfInfo;
  /** A sequence number above every one this process signed and above the wall clock in ms. */
  nextSeq(): number;
  logger: DiscoveryLogger | undefined;
  /** Rejoins the DHT (bootstrap again) before a retry, when the last publish reached too few nodes. */
  rejoin: (() => Promise<unknown>) | undefined;
  /** Called when a registration ends (unregistered or stopped). */
  onClosed(name: string, keyHex: string): void;
  /** Aborted by Discovery.stop(): from then on no registration schedules anything. */
  stopped: AbortSignal;
}
