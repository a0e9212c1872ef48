/**
 * The peers a node has exchanged authenticated messages with: their last address and
 * when they were last heard. Bounded (least recently heard forgotten first).
 */
import type { Address } from '../util/address.js';
import { sameAddress } from '../util/address.js';
import { bytesToHex, hexToBytes } from '../util/bytes.js';
import { LruMap } from '../util/lru.js';
import type { Logger } from '../util/logger.js';
import type { Dht } from '../kademlia/dht.js';
import type { Failover } from '../discovery/failover.js';
import type { InboundMessage } from '../session/session.js';
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

/** What {@link observePeer} needs from the node. */
export interface PeerObserver {
  table: PeerTable;
  /** The node's clock (peer records keep its time). */
  now(): number;
  wallClock(): number;
  failover: Failover;
  logger: Logger;
  /** A new peer ('peer' event). */
  emitPeer(info: PeerInfo): void;
}

/** An authenticated message arrived: remember its sender, and tell listeners about a new one. */
export function observePeer(observer: PeerObserver, message: InboundMessage): void {
  const added = observer.table.observe(message.fromHex, message.from.address, observer.now());
  // A provider a connect gave up on is tried first again once it shows life.
  observer.failover.succeed(message.fromHex);
  if (!added) return;
  try {
    observer.emitPeer({ ...added, lastSeen: observer.wallClock() });
  } catch (error) {
    // A throwing 'peer' listener must not cost the message that introduced the peer.
    observer.logger.warn(`a 'peer' listener threw: ${(error as Error)?.message ?? error}`);
  }
}

/** Address of a node by ID: the peer table first, then the routing table's closest contacts. */
export function addressOf(table: PeerTable, kad: Dht, nodeId: Uint8Array): Address | undefined {
  const hex = bytesToHex(nodeId);
  const peer = table.peek(hex);
  if (peer) return peer.address;
  return kad.closestContacts(kad.positions.of(nodeId), undefined, 20).find((contact) => bytesToHex(contact.id) === hex)?.address;
}

/**
 * The peers as `MccNode.peers()` lists them. `lastSeen` is kept on the node's clock; callers
 * get wall-clock ms (`offset` = wall clock - node clock), comparable with Date.now().
 */
export function peerList(table: PeerTable, offset: number, rtt: (id: Uint8Array) => number | undefined): PeerInfo[] {
  return [...table.values()].map((peer) => ({ ...peer, lastSeen: Math.round(peer.lastSeen + offset), rttMs: rtt(hexToBytes(peer.id)) }));
}
