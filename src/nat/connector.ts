/**
 * Path selection for a connect: direct when the target is reachable, else a relay
 * circuit, then a hole punch over that circuit; the relayed path stays when the
 * punch fails. The caller (the node's connect) runs the tunnel over the result and
 * may upgrade a relayed tunnel later when a punch succeeds.
 */
import type { Address } from '../util/address.js';
import { MccError } from '../errors.js';
import type { Transport } from '../transport/types.js';
import type { HolePuncher, PunchResult } from './holepunch.js';
import type { RelayClient, RelayedConnection } from './relay-client.js';
import type { NatContext, NatPeer } from './types.js';

/** What a provider record tells about a peer. */
export interface PeerContact {
  id: Uint8Array;
  /** Addresses it listens at (public first). */
  addresses: Address[];
  /** Relays it holds reservations with. */
  relays: NatPeer[];
  /** True when it reported itself reachable; undefined when unknown. */
  reachable?: boolean | undefined;
}

/** How a connection reaches the peer. */
export type ConnectPath = 'direct' | 'punched' | 'relayed';

/** The chosen path. */
export interface ConnectResult {
  path: ConnectPath;
  /** Where to send: a real address, or the circuit's virtual address when relayed. */
  address: Address;
  /** The extra socket a punched path runs over (birthday strategy); undefined = the main socket. */
  transport: Transport | undefined;
  /** The circuit used for the rendezvous (and for the data when `path` is `relayed`). */
  relayed: RelayedConnection | undefined;
  /** The punch outcome, when one succeeded. */
  punch: PunchResult | undefined;
  /** Time spent choosing. */
  elapsedMs: number;
}

/** Options of a {@link NatConnector}. */
export interface NatConnectorOptions {
  /** Budget of the direct attempt to a reachable target. Default 1500 ms. */
  directTimeoutMs?: number;
  /** Try hole punching before settling for the relay. Default true. */
  punch?: boolean;
  /** Our own relays, used when the target has none (e.g. our firewall lets UDP reach only them). */
  ownRelays?: () => NatPeer[];
}

/** Chooses a path to a peer. */
export class NatConnector {
  constructor(
    private readonly context: NatContext,
    private readonly relays: RelayClient,
    private readonly puncher: HolePuncher,
    private readonly options: NatConnectorOptions = {},
  ) {}

  /** Finds a path to `target`; rejects with ERR_UNREACHABLE when none works. */
  async connect(target: PeerContact, options: { signal?: AbortSignal } = {}): Promise<ConnectResult> {
    const started = this.context.clock.now();
    const done = (result: Omit<ConnectResult, 'elapsedMs'>): ConnectResult => ({ ...result, elapsedMs: this.context.clock.now() - started });
    if (target.reachable !== false) {
      for (const address of target.addresses) {
        try {
          await this.context.rpc.request({ id: target.id, address }, { ping: {} }, { signal: options.signal, timeoutMs: this.options.directTimeoutMs ?? 1500, retries: 1 });
          return done({ path: 'direct', address, transport: undefined, relayed: undefined, punch: undefined });
        } catch (error) {
          if (options.signal?.aborted) throw error;
        }
      }
    }
    const circuit = await this.openCircuit(target, options.signal);
    if (this.options.punch !== false) {
      try {
        const punch = await this.puncher.punch({ id: target.id, address: circuit.address }, options);
        return done({ path: 'punched', address: punch.address, transport: punch.transport, relayed: circuit, punch });
      } catch (error) {
        if (options.signal?.aborted) throw error;
      }
    }
    return done({ path: 'relayed', address: circuit.address, transport: undefined, relayed: circuit, punch: undefined });
  }

  /**
   * Opens a relay circuit to `target`: through one of its relays, else through one of
   * our own relays to its first address (when it may be reachable). Rejects with
   * ERR_UNREACHABLE when no relay gets through.
   */
  async openCircuit(target: PeerContact, signal: AbortSignal | undefined): Promise<RelayedConnection> {
    const attempts: Array<{ relay: NatPeer; targetAddress?: Address }> = target.relays.map((relay) => ({ relay }));
    const reachableAt = target.reachable !== false ? target.addresses[0] : undefined;
    if (reachableAt) for (const relay of this.options.ownRelays?.() ?? []) attempts.push({ relay, targetAddress: reachableAt });
    let last: unknown;
    for (const { relay, targetAddress } of attempts) {
      try {
        return await this.relays.connect(relay, target.id, { signal, targetAddress });
      } catch (error) {
        if (signal?.aborted) throw error;
        last = error;
      }
    }
    throw new MccError('ERR_UNREACHABLE', 'no direct path and no relay reached the peer', { cause: last });
  }
}
