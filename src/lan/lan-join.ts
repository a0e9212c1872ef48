/**
 * What a node does with a peer heard on the LAN: prove it (identify probe and sealed ping,
 * which only the holder of the announced key can answer), then hand it to the node, which
 * adds it to the routing table and joins the mesh through it when it has no one else.
 */
import type { Address } from '../util/address.js';
import { formatAddress } from '../util/address.js';
import { bytesToHex } from '../util/bytes.js';
import type { Logger } from '../util/logger.js';
import type { Contact } from '../kademlia/types.js';
import type { Announcement } from './announce.js';

/** Pings to LAN peers in flight at most: a burst of announcements costs bounded work. */
export const MAX_PENDING_LAN_PINGS = 8;

/** What {@link LanJoiner} needs from the node. */
export interface LanJoinContext {
  /** True when the node already exchanges authenticated messages with `idHex` at `address`. */
  isKnown(idHex: string, address: Address): boolean;
  /** A ping to `address`; resolves with the ID that answered. */
  ping(address: Address, signal: AbortSignal): Promise<{ id: string }>;
  /** A proven LAN peer. */
  proven(contact: Contact): Promise<void>;
  logger: Logger;
}

/** Proves LAN peers, a bounded number at a time. */
export class LanJoiner {
  private readonly pending = new Set<string>();
  private readonly stopped = new AbortController();
  /** Peers heard with an ID that another key answered for, or that did not answer. */
  failed = 0;

  constructor(private readonly context: LanJoinContext) {}

  /** Handles one announcement heard at `address` (from {@link LanDiscovery}). */
  heard(announcement: Announcement, address: Address): void {
    const idHex = bytesToHex(announcement.id);
    if (this.stopped.signal.aborted || this.pending.has(idHex) || this.pending.size >= MAX_PENDING_LAN_PINGS) return;
    this.pending.add(idHex);
    // A node we already exchange authenticated messages with at that address needs no ping
    // (it may have pinged us first, having heard our query).
    const done = this.context.isKnown(idHex, address)
      ? this.context.proven({ id: announcement.id, address }).catch(() => undefined)
      : this.prove(idHex, announcement.id, address);
    void done.finally(() => this.pending.delete(idHex));
  }

  /** Abandons the pings in flight. */
  stop(): void {
    this.stopped.abort();
  }

  private async prove(idHex: string, id: Uint8Array, address: Address): Promise<void> {
    try {
      const answer = await this.context.ping(address, this.stopped.signal);
      if (answer.id !== idHex) {
        this.failed++;
        this.context.logger.debug(`lan: ${formatAddress(address)} announced ${idHex.slice(0, 8)} but ${answer.id.slice(0, 8)} answered`);
        return;
      }
      if (this.stopped.signal.aborted) return;
      await this.context.proven({ id, address });
    } catch (error) {
      if (this.stopped.signal.aborted) return;
      this.failed++;
      this.context.logger.debug(`lan: peer ${idHex.slice(0, 8)} at ${formatAddress(address)} not joined: ${(error as Error).message}`);
    }
  }
}
