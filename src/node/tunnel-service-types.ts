/**
 * The tunnel service's seams: the options of `MccNode.connect`, and what the service needs
 * from its node (NAT paths, consortium admission, lookups), so each side can be built and
 * tested alone.
 */
import type { Address } from '../util/address.js';
import type { Logger } from '../util/logger.js';
import type { Clock } from '../util/clock.js';
import type { RpcLayer } from '../session/rpc.js';
import type { TunnelDriver } from '../tunnel/driver.js';
import type { TunnelConnection } from '../tunnel/tunnel-connection.js';
import type { Provider } from '../discovery/provider-record.js';
import type { Contact } from '../kademlia/types.js';
import type { Failover } from '../discovery/failover.js';
import type { Strategy } from '../discovery/load-balancing.js';
import type { ServiceTarget } from './service-targets.js';

/** Options of `MccNode.connect`. */
export interface ConnectOptions {
  /** How to pick among providers: `random`, `round-robin`, `least-latency` or your function. Default: the node's. */
  strategy?: Strategy;
  /** When the first argument is a node ID (64 hex characters): the service to reach on it. */
  service?: string;
  /** Most providers tried. Default: every provider, until one answers or `timeoutMs` ends. */
  maxAttempts?: number;
  /**
   * Total budget of the connect, ms: while it lasts, a connect whose providers all failed
   * looks the service up again and keeps trying. Default 15,000.
   */
  timeoutMs?: number;
  /** Aborts the connect (it rejects with `ERR_ABORTED`). */
  signal?: AbortSignal;
}

/** A way to reach a provider that is not a listed address (a relay circuit). */
export interface TunnelPath {
  /** Where to run the tunnel (a circuit's virtual address when relayed). */
  address: Address;
  /** True when the path runs through a relay. */
  relayed: boolean;
  /**
   * Present when the path still has to be set up: call it right after sending the
   * handshake to `address` (that datagram rides the set-up); it resolves once the path is
   * open and rejects when it cannot be.
   */
  open?: () => Promise<void>;
}

/** NAT traversal as the tunnel service uses it (src/node/nat.ts). */
export interface TunnelPaths {
  /** A relayed path to the provider; rejects when no relay gets through. */
  relayed(provider: { nodeId: Uint8Array; addresses: Address[]; relays: Contact[] }, signal?: AbortSignal): Promise<TunnelPath>;
  /** A tunnel came up over `path` (undefined: directly at a listed address); a relayed one may be upgraded. */
  connected(connection: TunnelConnection, path: TunnelPath | undefined): void;
  /** The tunnel handshake over a relayed `path` failed (release what it holds). */
  abandon(path: TunnelPath): void;
}

/** What the tunnel service needs from its node. */
export interface TunnelServiceContext {
  driver: TunnelDriver;
  rpc: RpcLayer;
  services: Map<string, ServiceTarget>;
  failover: Failover;
  logger: Logger;
  defaultStrategy: () => Strategy;
  lookup: (name: string, signal?: AbortSignal, fresh?: boolean) => Promise<Provider[]>;
  clock: Clock;
  /** Address of a node by ID when the node knows it (peer table, routing table). */
  addressOf: (nodeId: Uint8Array) => Address | undefined;
  /** Told when a tunnel connection comes up and when it closes (the node's events). */
  onTunnel?: (event: 'open' | 'close', connection: TunnelConnection) => void;
  /** NAT traversal: relayed paths and their upgrade. Without it, only listed addresses are tried. */
  paths?: TunnelPaths;
  /** False for addresses of an IP family this node's socket cannot send to: they are not tried. Default: all are. */
  reachable?: (address: Address) => boolean;
  /** Consortium mode: certificates in the handshake and who may use which service. Without it, every offered service is open. */
  admission?: TunnelAdmission;
}

/** Consortium mode as the tunnel service uses it (src/node/consortium.ts). */
export interface TunnelAdmission {
  /** This node's certificate, sent in both handshake messages. */
  certificate(): Uint8Array;
  /** A handshake authenticated `peer`, which presented `certificate` (empty: none). */
  learn(peer: Uint8Array, certificate: Uint8Array): void;
  /** May `peerHex` open streams to `service`? Asked at the handshake and for every stream. */
  admits(peerHex: string, service: string): boolean;
}
