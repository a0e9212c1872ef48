/**
 * Who a starting node joins the mesh through: the bootstrap nodes that answer a ping, then
 * the peers saved at the last stop (the routing-table snapshot).
 */
import type { Address } from '../util/address.js';
import { formatAddress } from '../util/address.js';
import { bytesToHex, hexToBytes } from '../util/bytes.js';
import { MccError } from '../errors.js';
import type { Contact } from '../kademlia/types.js';
import { readRoutingFile } from './routing-file.js';
import type { PingResult } from './types.js';

/**
 * Saved peers used as join seeds at most when a bootstrap node answered. The join lookup
 * waits for each seed it queries, so a stale snapshot (every saved peer gone) cost ~20 s
 * per start with all 512; the live bootstrap node leads to the current network anyway.
 */
export const MAX_SAVED_SEEDS_WITH_BOOTSTRAP = 16;
/** Saved peers used at most when no bootstrap node answered (they are the only way in). */
export const MAX_SAVED_SEEDS = 64;

/** What {@link gatherSeeds} needs from the node. */
export interface JoinContext {
  bootstrap: Address[];
  ping(address: Address, options: { signal?: AbortSignal }): Promise<PingResult>;
  /** A bootstrap node did not answer (logged and emitted as a warning by the node). */
  warn(error: MccError): void;
  routingFile: string | undefined;
}

/** The seeds of the join lookup: answering bootstrap nodes first, then saved peers (bounded, no duplicates). */
export async function gatherSeeds(context: JoinContext, signal?: AbortSignal): Promise<Contact[]> {
  const results = await Promise.allSettled(context.bootstrap.map((address) => context.ping(address, signal ? { signal } : {})));
  const seeds: Contact[] = [];
  results.forEach((result, index) => {
    const address = context.bootstrap[index];
    if (result.status === 'fulfilled') seeds.push({ id: hexToBytes(result.value.id), address });
    else context.warn(new MccError('ERR_UNREACHABLE', `bootstrap node ${formatAddress(address)} did not answer`, { cause: result.reason }));
  });
  const saved = context.routingFile ? await readRoutingFile(context.routingFile) : [];
  const known = new Set(seeds.map((seed) => bytesToHex(seed.id)));
  const extra = saved.filter((contact) => !known.has(bytesToHex(contact.id)));
  return [...seeds, ...extra.slice(0, seeds.length > 0 ? MAX_SAVED_SEEDS_WITH_BOOTSTRAP : MAX_SAVED_SEEDS)];
}
