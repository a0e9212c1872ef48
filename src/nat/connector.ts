/**
 * Path selection for a connect: direct when the target is reachable, else a relay
 * circuit with a hole punch whose offer rides the circuit set-up; the relayed path
 * stays when the punch fails. The caller (the node's connect) runs the tunnel over the
 * result and may upgrade a relayed tunnel later when a punch succeeds.
 */
import type { Address } from '../util/address.js';
import { MccError } from '../errors.js';
import { equalBytes } from '../util/bytes.js';
import type { Transport } from '../transport/types.js';
import type { HolePuncher, PunchResult } from './holepunch.js';
import type { OpeningCircuit, RelayClient, RelayRoute, RelayedConnection } from './relay-client.js';
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
  ) {
    // The accepting end learns where the relay saw the peer of each circuit: a punch through
    // it sprays that host only, free of the per-host budget (holepunch-guard.ts).
    relays.on('incoming', (circuit) => puncher.observe(circuit));
  }

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
    const opening = this.startCircuit(target, options.signal);
    // The punch has its own signal so that a failed set-up stops its probes at once.
    const punchAbort = new AbortController();
    const punchSignal = options.signal ? AbortSignal.any([options.signal, punchAbort.signal]) : punchAbort.signal;
    // The offer is sent into the circuit before its set-up leaves, so it rides the set-up.
    const punch = this.options.punch !== false ? this.puncher.punch({ id: target.id, address: opening.address }, { ...options, signal: punchSignal, known: target.addresses }) : undefined;
    let circuit: RelayedConnection;
    try {
      circuit = await opening.launch();
    } catch (error) {
      opening.cancel();
      punchAbort.abort(error);
      throw error;
    }
    if (punch) {
      try {
        const result = await punch;
        return done({ path: 'punched', address: result.address, transport: result.transport, relayed: circuit, punch: result });
      } catch (error) {
        if (options.signal?.aborted) throw error;
      }
    }
    return done({ path: 'relayed', address: circuit.address, transport: undefined, relayed: circuit, punch: undefined });
  }

  /**
   * Registers a circuit to `target` (its virtual address can be sent to at once) over its
   * routes: one of its relays, else one of our own relays to its first address (when it may
   * be reachable); `launch()` sends the set-up, carrying what was sent to the circuit before,
   * and rejects with ERR_UNREACHABLE when no relay gets through. Throws ERR_UNREACHABLE when
   * there is no route.
   */
  startCircuit(target: PeerContact, signal: AbortSignal | undefined): OpeningCircuit {
    const own = this.options.ownRelays?.() ?? [];
    // The target's relays we hold a reservation with first: we know they answer us. Routes
    // are tried one after the other, and a relay our firewall blocks (block-udp lets only
    // one relay through) costs a whole RelayConnect timeout before the next one is tried.
    const ours = (relay: NatPeer): boolean => own.some((mine) => equalBytes(mine.id, relay.id));
    const relays = [...target.relays.filter(ours), ...target.relays.filter((relay) => !ours(relay))];
    const routes: RelayRoute[] = relays.map((relay) => ({ relay }));
    const reachableAt = target.reachable !== false ? target.addresses[0] : undefined;
    if (reachableAt) for (const relay of own) routes.push({ relay, targetAddress: reachableAt });
    if (routes.length === 0) throw new MccError('ERR_UNREACHABLE', 'no direct path and no relay to reach the peer through');
    return this.relays.open(target.id, routes, signal ? { signal } : {});
  }
}
