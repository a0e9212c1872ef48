/**
 * The routes of a relay circuit to a peer, as `connect()` opens one (src/node/nat-paths.ts,
 * through `NatService.openCircuit`): the peer's relays, the ones we hold a reservation with
 * first, then our own relays to the peer's first listed address when the peer may be
 * reachable there (e.g. our firewall lets UDP reach our relays only).
 */
import type { Address } from '../util/address.js';
import { MccError } from '../errors.js';
import { equalBytes } from '../util/bytes.js';
import type { RelayRoute } from './relay-client-types.js';
import type { NatPeer } from './types.js';

/** What a provider record tells about a peer. */
export interface PeerContact {
  /** The peer's node ID. */
  id: Uint8Array;
  /** Addresses it listens at (public first). */
  addresses: Address[];
  /** Relays it holds reservations with. */
  relays: NatPeer[];
  /** True when it reported itself reachable; false when it is not (it lists relays); undefined when unknown. */
  reachable?: boolean | undefined;
}

/**
 * The routes to try, in order, for a circuit to `target`; `own` are the relays we hold
 * reservations with. Throws ERR_UNREACHABLE when there is none.
 */
export function circuitRoutes(target: PeerContact, own: readonly NatPeer[]): RelayRoute[] {
  // The target's relays we hold a reservation with first: we know they answer us. Routes
  // are tried one after the other, and a relay our firewall blocks (block-udp lets only
  // one relay through) costs a whole RelayConnect timeout before the next one is tried.
  const ours = (relay: NatPeer): boolean => own.some((mine) => equalBytes(mine.id, relay.id));
  const relays = [...target.relays.filter(ours), ...target.relays.filter((relay) => !ours(relay))];
  const routes: RelayRoute[] = relays.map((relay) => ({ relay }));
  const reachableAt = target.reachable !== false ? target.addresses[0] : undefined;
  if (reachableAt) for (const relay of own) routes.push({ relay, targetAddress: reachableAt });
  if (routes.length === 0) throw new MccError('ERR_UNREACHABLE', 'no direct path and no relay to reach the peer through');
  return routes;
}
