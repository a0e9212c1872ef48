/** Service discovery: provider records on the DHT, lookup, watch, load balancing and failover. */
export * from './discovery.js';
export { Registration, type RegistrationState } from './registration.js';
export { ProviderLookup, type LookupOptions, type ProviderLookupOptions } from './provider-lookup.js';
export {
  MAX_METADATA_BYTES,
  MAX_PROVIDER_ADDRESSES,
  MAX_PROVIDER_RELAYS,
  decodeProviderValue,
  encodeMetadata,
  encodeProviderValue,
  providerFromRecord,
  type Provider,
  type ProviderInfo,
  type ServiceMetadata,
} from './provider-record.js';
export { MAX_SERVICE_NAME_BYTES, encodeServiceName, serviceKey } from './service-name.js';
export { BalancerState, STRATEGIES, checkStrategy, pickProviders, type Strategy, type StrategyFunction } from './load-balancing.js';
export { Failover, type FailoverOptions, type FailoverRunOptions } from './failover.js';
export { DEFAULT_WATCH_INTERVAL_MS, MIN_WATCH_INTERVAL_MS, diffProviders, watchProviders, type WatchEvent, type WatchOptions } from './watch.js';
export type { DiscoveryDht, DiscoveryLogger, SelfInfo } from './types.js';
