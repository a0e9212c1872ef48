/**
 * The peers a node has exchanged authenticated messages with: their last address and
 * when they were last heard. Bounded (least recently heard forgotten first).
 */
import type { Address } from '../util/address.js';
import { sameAddress } from '../util/address.js';
import { hexToBytes } from '../util/bytes.js';
import { LruMap } from '../util/lru.js';
import type { PeerInfo } from './types.js';

/** Peers remembered at most. */
const MAX_PEERS = 4096;

/** ID -> last known address and time, for `peers()`, `stats()` and pinging by address. */
export class PeerTable {
  private readonly table = new LruMap<string, PeerInfo>(MAX_PEERS);

  /** Peers remembered now. */
  get size(): number {
    return this.table.size;
  }

  /** Every remembered peer (live records: copy before handing out). */
  values(): IterableIterator<PeerInfo> {
    return this.table.values();
  }

  /** The record of `idHex`, without touching its recency. */
  peek(idHex: string): PeerInfo | undefined {
    return this.table.peek(idHex);
  }

  /** An authenticated message from `idHex` at `address`: returns the record when the peer is new. */
  observe(idHex: string, address: Address, now: number): PeerInfo | undefined {
    const known = this.table.get(idHex);
    if (known) {
      known.address = address;
      known.lastSeen = now;
      return undefined;
    }
    const info: PeerInfo = { id: idHex, address, lastSeen: now, rttMs: undefined };
    this.table.set(idHex, info);
    return info;
  }

  /** The ID last heard from `address`, if any. */
  idAt(address: Address): Uint8Array | undefined {
    for (const peer of this.table.values()) if (sameAddress(peer.address, address)) return hexToBytes(peer.id);
    return undefined;
  }

  /** Forgets `idHex` (e.g. its address answered for another identity since). */
  forget(idHex: string): void {
    this.table.delete(idHex);
  }
}
