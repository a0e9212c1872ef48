/** The simulated network: in-memory transports, links and NATs for tests and benchmarks. */
export { SimNetwork, type SimNetworkOptions, type SimTransportOptions } from './network.js';
export { SimTransport, type SimTransportCounters } from './transport.js';
export { SimNat, type SimNatOptions, type SimNatType, type SimPortStrategy, type SimNatMappingInfo } from './nat.js';
export { DEFAULT_LINK, DEFAULT_LAN_LINK, type LinkProfile } from './link.js';
export type { SimDropReason, SimNetworkStats, SimTraceEvent } from './types.js';
export { mulberry32, type RandomSource } from './random.js';
