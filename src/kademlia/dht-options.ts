/** The options and counters of a Kademlia node (`DhtCore`): its seam with the node that builds it. */
import type { CryptoSuite } from '../crypto/types.js';
import type { Clock } from '../util/clock.js';
import type { LookupParams } from './lookup.js';
import type { RecordStoreOptions } from './storage.js';
import type { KadNetwork } from './types.js';

/** Options of a `DhtCore`. Only `id`, `suite`, `clock` and `network` are required. */
export interface DhtOptions {
  /** Our node ID (Ed25519 public key). */
  id: Uint8Array;
  suite: CryptoSuite;
  clock: Clock;
  network: KadNetwork;
  /** Wall-clock ms since the epoch, for record expiry. Default `Date.now` (inject a virtual one in simulations). */
  wallClock?: () => number;
  /** Client mode: we query but ask others not to add us (we are not reachable). Default false. */
  clientMode?: boolean;
  /** Bucket size and replication factor. Default 20. */
  k?: number;
  /** Size multipliers of the first (widest-range) buckets; default [8, 4, 2] (see RoutingTable.capacity). */
  wideBuckets?: readonly number[];
  /** Lookup tuning (alpha, caps, timeouts). */
  lookup?: LookupParams;
  /** Storage limits (see {@link RecordStoreOptions}). */
  storage?: Omit<RecordStoreOptions, 'suite' | 'wallClock'>;
  /** Refresh a bucket that no lookup, new contact or message from its contacts touched for this long, ms. Default 60 min (the Kademlia paper's tRefresh). */
  bucketRefreshMs?: number;
  /** Period of the maintenance tick (expiry sweep, refresh, republish), ms. Default 60 s. */
  maintenanceMs?: number;
  /** Deadline of a liveness ping or STORE, ms. Default 2,000. */
  rpcTimeoutMs?: number;
  /** After the join lookup, also refresh the non-full buckets farther out (Kademlia's join). Default true. */
  refreshOnJoin?: boolean;
  /**
   * Most buckets the join refreshes, nearest first from our closest neighbour's bucket
   * outward. Default 1. The far buckets (half, a quarter, ... of the network) fill by
   * themselves from the traffic of others' lookups and from maintenance refresh. Each
   * refresh is a lookup of ~20 requests: on the simulator (N = 1,000-3,000, real joins) 3
   * refreshes cost 92-96 requests per join against 53-56 with 1, for the same lookup round
   * trips and at most one more message per later lookup.
   */
  joinRefreshBuckets?: number;
  /** Most routing-table contacts told when this node switches to client mode. Default 2k. */
  clientModeAnnounce?: number;
}

/** Counters for diagnostics and tests. */
export interface DhtStats {
  lookups: number;
  queries: number;
  storesReceived: number;
  storesRejected: number;
  malformedContacts: number;
  /** Records handed to nodes that joined near keys held here (see handoff.ts). */
  recordsHandedOff: number;
}
