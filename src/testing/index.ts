/**
 * `mcc-mesh/testing`: the simulated network, NAT models and virtual clock the project's own
 * tests run on, for your test suites. {@link createTestnet} builds a mesh of real nodes
 * in one process; the lower-level pieces let you build your own topologies.
 *
 * @packageDocumentation
 */
export { createTestnet, type Testnet, type TestnetOptions, type TestnetNat } from './testnet.js';
export { SimNetwork, type SimNetworkOptions, type SimTransportOptions } from '../transport/sim/network.js';
export { SimTransport, type SimTransportCounters } from '../transport/sim/transport.js';
export { SimNat, type SimNatOptions, type SimNatType, type SimPortStrategy, type SimNatMappingInfo } from '../transport/sim/nat.js';
export { DEFAULT_LINK, DEFAULT_LAN_LINK, type LinkProfile } from '../transport/sim/link.js';
export type { SimDropReason, SimNetworkStats, SimTraceEvent } from '../transport/sim/types.js';
export { VirtualClock } from '../util/virtual-clock.js';
