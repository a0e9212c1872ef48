/** The Kademlia DHT: routing table, iterative lookup, signed record storage, put/get. */
export * from './types.js';
export { Dht, type DhtValueOptions, type GetOptions, type GetResult, type PutOptions, type PutResult } from './values.js';
export type { PagingParams } from './paging.js';
export { DhtCore, type DhtOptions, type DhtStats } from './dht.js';
export { RoutingTable, type RoutingTableOptions, type TableEntry, type ObserveOutcome } from './routing-table.js';
export { RecordStore, type RecordStoreOptions, type HeldRecord } from './storage.js';
export { iterativeLookup, validContact, type LookupOptions, type LookupParams, type LookupResult, type LookupHit, type LookupEnd, type QueryAnswer } from './lookup.js';
export {
  KEY_NAMESPACE,
  Positions,
  commonPrefixLength,
  compareDistance,
  immutableKey,
  mutableKey,
  namespacedKey,
  randomPositionInBucket,
} from './keyspace.js';
export {
  checkRecord,
  createImmutableRecord,
  createMutableRecord,
  encodeRecordForSigning,
  isBoundMutable,
  isImmutable,
  signRecord,
  supersedes,
  type RecordFields,
  type RecordProblem,
} from './record.js';
export { WriteTokens } from './write-tokens.js';
export { snapshotTable, contactsFromSnapshot, type RoutingSnapshot } from './snapshot.js';
export { subnetGroup } from './subnet.js';
export { InMemoryKadHub, InMemoryEndpoint, seededRandom, type InMemoryKadHubOptions, type KadHandlers } from './in-memory-network.js';
