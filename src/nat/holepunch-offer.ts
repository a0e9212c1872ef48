/**
 * The rendezvous message of a hole punch: building a HolepunchOffer from what a side knows
 * of itself, and checking one that arrived (holepunch.ts runs the punch).
 */
import type { Address } from '../util/address.js';
import { fromSocketAddress, toSocketAddress } from '../wire/address.js';
import type { HolepunchOffer } from '../wire/codec.js';
import { CIRCUIT_ID_SIZE, isVirtualAddress } from './relay-packet.js';
import { NAT_MAPPING_CODES, natMappingFromCode, type NatMapping } from './types.js';

/** Candidate addresses an offer carries (and a side probes) at most. */
export const MAX_OFFER_ADDRESSES = 4;

/** The offer this side sends (or answers with) for punch `id`/`key`. */
export function offerOf(id: Uint8Array, key: Uint8Array, local: { mapping: NatMapping; reachable: boolean | undefined; addresses: Address[] }): HolepunchOffer {
  return {
    punchId: id,
    punchKey: key,
    addresses: local.addresses
      .filter((a) => !isVirtualAddress(a))
      .slice(0, MAX_OFFER_ADDRESSES)
      .map((a) => toSocketAddress(a)),
    mapping: NAT_MAPPING_CODES[local.mapping],
    reachable: local.reachable === true,
  };
}

/** The checked contents of an offer, or undefined when it is malformed. Never throws. */
export function parseOffer(
  offer: HolepunchOffer | null | undefined,
): { id: Uint8Array; key: Uint8Array; addresses: Address[]; mapping: NatMapping; reachable: boolean } | undefined {
  if (!offer || !(offer.punchId instanceof Uint8Array) || offer.punchId.length !== CIRCUIT_ID_SIZE) return undefined;
  if (!(offer.punchKey instanceof Uint8Array) || offer.punchKey.length !== 32) return undefined;
  const addresses: Address[] = [];
  for (const socket of (offer.addresses ?? []).slice(0, MAX_OFFER_ADDRESSES)) {
    const address = fromSocketAddress(socket);
    if (address && !isVirtualAddress(address) && address.port > 0) addresses.push(address);
  }
  return { id: offer.punchId, key: offer.punchKey, addresses, mapping: natMappingFromCode(offer.mapping), reachable: offer.reachable === true };
}
