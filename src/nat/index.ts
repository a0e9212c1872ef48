/** Public surface of the NAT traversal module (see docs/nat.md). */
export { NatService, type NatServiceOptions, type NatServiceEvents } from './nat-service.js';
export { NatClassifier, classify, shouldServeDht, type NatState, type NatClassifierOptions, type NatClassifierEvents } from './classifier.js';
export { NatMonitor, type NatMonitorOptions } from './monitor.js';
export { NatProbeService, MAX_ECHO_DELAY_MS, type NatProbeServiceOptions, type ProbeArrival } from './dialback.js';
export { KeepaliveLearner, KeepaliveScheduler, type KeepaliveLearnerOptions, type KeepaliveSchedulerOptions } from './keepalive.js';
export { RelayServer, observedFrom, type RelayServerOptions, type RelayServerStats } from './relay-server.js';
export { RelayClient, type RelayClientOptions, type RelayClientEvents, type RelayReservationInfo, type RelayedConnection } from './relay-client.js';
export { RelayTransport, type RelayTransportCounters, type RelayFallback } from './relay-transport.js';
export { HolePuncher, describePunch, type HolePunchOptions, type HolePuncherEvents, type LocalNatInfo, type PunchResult } from './holepunch.js';
export { NatConnector, type NatConnectorOptions, type PeerContact, type ConnectPath, type ConnectResult } from './connector.js';
export {
  CIRCUIT_ID_SIZE,
  RELAY_HEADER_SIZE,
  MAX_RELAYED_INNER_SIZE,
  encodeRelayed,
  relayedIdHex,
  virtualAddress,
  isVirtualAddress,
  circuitIdOf,
} from './relay-packet.js';
export { PROBE_SIZE, PROBE_ACK, PROBE_FROM_INITIATOR, encodeProbe, verifyProbe } from './holepunch-probe.js';
export { ProbeBudget, type ProbeBudgetOptions } from './probe-budget.js';
export * from './types.js';
