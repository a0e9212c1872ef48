/**
 * The public shapes of the relay client (relay-client.ts): options, reservations, circuits
 * and events.
 */
import type { Address } from '../util/address.js';
import type { NatPeer } from './types.js';

/** Relay reservations and circuits of a node behind NAT (`NatTuning.relayClient`). */
export interface RelayClientOptions {
  /** Reservations to keep while reservations are wanted. Default 2. */
  minRelays?: number;
  /** Most reservations at once. Default 4 (the provider record lists at most 4). */
  maxRelays?: number;
  /** Retry delay after a failed reservation round. Default 30 s. */
  retryMs?: number;
  /** Time budget of one reservation or connect request. Default 4000 ms. */
  requestTimeoutMs?: number;
  /**
   * Circuits this node is an end of, at most. Default 64. When full, an idle circuit makes room
   * (one that never carried traffic first); a circuit in use never does: the new one is refused
   * with `ERR_LIMIT` instead. Circuits others open are also limited: 3/4 of this in all (the
   * rest is for ours), 1/2 through relays we hold no reservation with, 1/4 per relay and 4 per
   * initiator (relay-circuit-table.ts).
   */
  maxCircuits?: number;
  /** Accept circuits from relays we hold no reservation with (reachable nodes). Default true. */
  acceptUnreserved?: boolean;
  /** Decides whether to accept a circuit from `initiator`. Default: accept. */
  acceptIncoming?: (initiator: Uint8Array, initiatorAddress: Address | undefined) => boolean;
}

/** A live reservation. */
export interface RelayReservationInfo {
  relay: NatPeer;
  /** Clock time the reservation runs out unless refreshed. */
  expires: number;
  /** Our address as the relay sees it. */
  observed: Address | undefined;
  /** The relay's per-circuit budget. */
  bytesPerSecond: number;
  /** Lifetime the relay granted (refreshed at half of it). */
  lifetimeMs: number;
}

/** A circuit this node is an end of. */
export interface RelayedConnection {
  /** The relay in the middle. */
  relay: NatPeer;
  /** Circuit ID (hex). */
  circuitId: string;
  /** The peer at the other end. */
  peer: Uint8Array;
  /** Virtual address that reaches `peer` through the relay. */
  address: Address;
  /** The peer's real address as the relay saw it (for hole punching), when known. */
  peerObserved: Address | undefined;
}

/** A relay to open a circuit through, and (for a reachable target without reservation) where the relay finds the target. */
export interface RelayRoute {
  relay: NatPeer;
  targetAddress?: Address | undefined;
}

/**
 * A circuit being set up (`RelayClient.open`). Its virtual address can be sent to at
 * once: those datagrams are held, and the first of them ride the set-up message.
 */
export interface OpeningCircuit {
  /** Circuit ID (hex), chosen by us. */
  readonly circuitId: string;
  /** Virtual address that will reach the peer. */
  readonly address: Address;
  /** The peer at the other end. */
  readonly peer: Uint8Array;
  /**
   * Sends the set-up through each route in turn (carrying what was sent to `address` so
   * far) and resolves with the open circuit; rejects with ERR_UNREACHABLE when no relay
   * carries it (the circuit is then forgotten). Idempotent.
   */
  launch(): Promise<RelayedConnection>;
  /** Gives the circuit up (before or after launch). */
  cancel(): void;
}

/** Events of a `RelayClient` (relay-client.ts). */
export interface RelayClientEvents {
  /** A peer opened a circuit to us. */
  incoming: (connection: RelayedConnection) => void;
  /** The set of live reservations changed. */
  reservations: (relays: RelayReservationInfo[]) => void;
}
