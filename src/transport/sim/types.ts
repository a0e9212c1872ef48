/**
 * Shared shapes of the simulated network: what a simulated transport needs from
 * the network (the {@link SimFabric} seam, so `transport.ts` never imports
 * `network.ts`), drop reasons, statistics and trace events.
 */
import type { Address } from '../../util/address.js';

/** Why the simulated network dropped a datagram. */
export type SimDropReason =
  | 'loss' // the link's random loss
  | 'nat-filter' // a NAT or firewall refused it (no mapping, filtered source, blocked destination, hairpin)
  | 'no-listener' // nobody bound at the destination port (or the transport closed, or has no handler)
  | 'queue' // the sender's bandwidth queue was full
  | 'no-route'; // the destination host does not exist (or is a private address of another LAN)

/** Counters of a {@link SimNetwork}; they only ever grow. */
export interface SimNetworkStats {
  /** Datagrams handed to the network by transports. */
  sent: number;
  /** Datagrams delivered to a receive handler (duplicates count once each). */
  delivered: number;
  /** Extra copies created by the links' `duplicate` probability. */
  duplicated: number;
  /** Payload bytes handed to the network. */
  bytesSent: number;
  /** Payload bytes delivered. */
  bytesDelivered: number;
  /** Drops by reason. */
  dropped: Record<SimDropReason, number>;
}

/** One datagram's fate, reported to {@link SimNetwork.tap} when a tap is installed. */
export interface SimTraceEvent {
  /** Clock time of the event. */
  time: number;
  /** `send` when handed to the network, `deliver` when handed to a handler, `drop` otherwise. */
  kind: 'send' | 'deliver' | 'drop';
  /** Set for drops. */
  reason?: SimDropReason;
  /** Source as the receiver would see it (after NAT translation); for `send` and early drops, the sender's own address. */
  from: Address;
  /** Destination as addressed by the sender. */
  to: Address;
  /** Payload size in bytes. */
  size: number;
}

/** Something the network can hand datagrams to (a bound simulated transport). */
export interface SimEndpoint {
  /** Delivers one datagram; returns false when nobody is listening (no handler, closed). */
  deliver(data: Uint8Array, from: Address): boolean;
}

/** Opaque record of the host a transport lives on (owned by the network). */
export type SimSite = object;

/** What a simulated transport needs from its network. */
export interface SimFabric {
  /** Binds `endpoint` at `port` (0 = allocate) on `site`; returns the port; throws `ERR_TRANSPORT` when taken. */
  attach(endpoint: SimEndpoint, site: SimSite, port: number): number;
  /** Releases a port bound by `attach`. */
  detach(site: SimSite, port: number): void;
  /** Sends one datagram from `site:port`; returns false when `to` is not a valid address. */
  transmit(site: SimSite, port: number, to: Address, data: Uint8Array): boolean;
}
