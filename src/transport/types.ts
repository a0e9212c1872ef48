/**
 * The transport seam: something that moves datagrams between addresses. UDP in
 * production; the in-memory simulated network in tests and benchmarks.
 */
import type { Address } from '../util/address.js';

/** Called for every datagram received. `data` may be reused after the call returns: copy what you keep. */
export type DatagramHandler = (data: Uint8Array, from: Address) => void;

/** A datagram transport. Implementations never throw from `send`; failures are counted and reported as events. */
export interface Transport {
  /** Binds the socket; resolves with the bound local address. */
  bind(): Promise<Address>;
  /** Sends one datagram. Fire-and-forget; a send to a closed transport is ignored. */
  send(to: Address, data: Uint8Array): void;
  /**
   * Optional: sends one datagram made of `header` followed by `body`, without joining them
   * first (a relayed datagram is a fixed per-circuit header in front of the caller's datagram).
   * Same contract as `send`; neither buffer may be changed by the caller afterwards.
   */
  sendParts?(to: Address, header: Uint8Array, body: Uint8Array): void;
  /** Installs the single receive handler (replaces any previous one). */
  onDatagram(handler: DatagramHandler): void;
  /**
   * Optional: installs the handler for exceptions the transport caught in the receive handlers
   * it dispatches to other than the `onDatagram` one (a relay transport's hole-punch claims and
   * relay-server fallback). Such an exception is a bug, not bad input: the owner counts and logs
   * it. Without a handler installed, it propagates.
   */
  onInternalError?(handler: (error: unknown) => void): void;
  /** The bound local address (throws before `bind`). */
  localAddress(): Address;
  /** Closes the socket; idempotent. */
  close(): Promise<void>;
}
