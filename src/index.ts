/**
 * mcc-mesh: join a decentralised mesh from any Node application, for service
 * discovery on a Kademlia DHT and encrypted tunnels through NAT.
 *
 * @packageDocumentation
 */
export { MccNode } from './node/node.js';
export type { MccNodeOptions, MccNodeEvents, PingResult, PeerInfo, MccDht } from './node/node.js';
export type { RegisterServiceOptions, StreamHandler } from './node/service-targets.js';
export type { ConnectOptions } from './node/tunnel-service-types.js';
export type { ForwardOptions, Forward, ForwardEvents } from './node/forward.js';
export type { ServiceInfo, ForwardInfo, TunnelInfo, LookupInfo, ModuleStats } from './node/introspection.js';
export type { TunnelConfig } from './tunnel/config.js';
export type { NatStatus, NodeNatOptions } from './node/nat.js';
export type { LanOptions, LanStats, LanDropReason } from './lan/lan-discovery.js';
export type { NodeLanStats } from './node/lan.js';
export type { NatMapping, SocketFactory, RandomFn } from './nat/types.js';
export type { ConnectCounts } from './node/nat-paths.js';
export type { NatTuning } from './nat/nat-service.js';
export type { NatMonitorTuning } from './nat/monitor.js';
export type { RelayClientOptions } from './nat/relay-client-types.js';
export type { HolePunchOptions } from './nat/holepunch-options.js';
export type { ProbeBudgetOptions } from './nat/probe-budget.js';
export type { KeepaliveLearnerOptions } from './nat/keepalive.js';
export type { RelayServerOptions, RelayServerStats } from './nat/relay-server.js';
export type { Registration, RegistrationState } from './discovery/registration.js';
export type { Provider, ServiceMetadata } from './discovery/provider-record.js';
export type { WatchEvent } from './discovery/watch.js';
export type { WatchStats } from './discovery/watch-rpc.js';
export type { SubscriptionStats } from './discovery/subscriptions.js';
export type { Strategy, StrategyFunction } from './discovery/load-balancing.js';
export type { PutOptions, PutResult, GetOptions, GetResult } from './kademlia/dht.js';
export type { SignedRecord, Contact } from './kademlia/types.js';
export { MccError, type MccErrorCode } from './errors.js';
export {
  createOrganisation,
  parseOrganisationId,
  issueCertificate,
  verifyCertificate,
  checkCertificate,
  decodeCertificate,
  createRevocationRecord,
  parseRevocationRecord,
  revocationKey,
  credentialFor,
  loadCredential,
  saveCredential,
  loadOrganisation,
  saveOrganisation,
  MAX_CERTIFICATE_BYTES,
  MAX_REVOKED,
  type Organisation,
  type OrganisationRef,
  type Certificate,
  type CertificateCheck,
  type CertificateProblem,
  type CertificateVerdict,
  type IssueOptions,
  type RevocationList,
  type Credential,
  type Visibility,
} from './consortium/index.js';
export { publishRevocationList, type ConsortiumOptions, type ConsortiumStats, type RevocationPublisher } from './node/consortium.js';
export type { ConsortiumPolicy } from './node/consortium-policy.js';
export type { ConsortiumLimits, OrganisationLimits, OrganisationLimitStats } from './node/consortium-limits.js';
export type { Address } from './util/address.js';
export { formatAddress, parseAddress } from './util/address.js';
export type { Clock } from './util/clock.js';
export type { Logger } from './util/logger.js';
export { createLogger, type LogLevel } from './util/logger.js';
export type { StatsSnapshot, DropReason, RateLimitCounts } from './util/stats.js';
export type { RequestBudgetOptions, BucketLimits } from './session/request-budget.js';
export type { Transport, DatagramHandler } from './transport/types.js';
export { UdpTransport, type UdpTransportOptions, type UdpTransportCounters } from './transport/udp.js';
export type { CryptoSuite, KeyPair } from './crypto/types.js';
export {
  nodeCryptoSuite,
  nobleCryptoSuite,
  createCryptoSuite,
  loadCryptoSuite,
  availableCryptoSuites,
  DEFAULT_CRYPTO_SUITE,
  type CryptoSuiteName,
  type SyncCryptoSuiteName,
} from './crypto/index.js';
export { generateIdentity, loadIdentity, saveIdentity, protectKeyPair } from './crypto/identity.js';
