/** The public shapes of the hole puncher (holepunch.ts): what a side knows of itself and of the other, results, events. */
import type { Address } from '../util/address.js';
import type { Transport } from '../transport/types.js';
import type { NatMapping } from './types.js';

/** What this node knows about itself when it punches. */
export interface LocalNatInfo {
  mapping: NatMapping;
  reachable: boolean | undefined;
  /** Candidate addresses, best first: the observed public address, then local ones. */
  addresses: Address[];
}

/** A working direct path. */
export interface PunchResult {
  /** The peer's node ID (hex). */
  peer: string;
  /** Where the peer answers. */
  address: Address;
  /** The extra socket the path runs over, or undefined for the node's main socket. The caller owns (and closes) it. */
  transport: Transport | undefined;
  /** True on the side that started the punch. */
  initiator: boolean;
  /** From the start of probing to the first authenticated probe. */
  elapsedMs: number;
  /** Probes this side sent. */
  probesSent: number;
  /** Probes to unconfirmed addresses the node's budgets held back (holepunch-guard.ts). */
  probesSuppressed: number;
}

/** Events of a `HolePuncher` (holepunch.ts). */
export interface HolePuncherEvents {
  /** A punch succeeded (either role). */
  punched: (result: PunchResult) => void;
  /** A punch this node answered failed. */
  failed: (peerHex: string, reason: string) => void;
}

/** What a side knows of the other side's NAT. */
export type RemoteNatInfo = Omit<LocalNatInfo, 'reachable'> & { reachable: boolean };
