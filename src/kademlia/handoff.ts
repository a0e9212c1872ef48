/**
 * Record hand-off to a node that joined near held keys (Kademlia's replication on join).
 *
 * Why: a provider stores its record on the k closest nodes it knows when it registers. A
 * node that joins later close to the key holds nothing until the next republish (about a
 * minute), and a read ends after three complete-looking holders: when nodes join and
 * register at once (ten providers started together), the three nearest may all have
 * joined after one record was stored, and lookups miss that provider for a minute.
 *
 * So when a new contact enters the routing table, every key this node holds on which the
 * newcomer is among the k closest known (this node included) is offered to it: one
 * FIND_VALUE tells what it holds already (and gives the write token), then only the
 * records it lacks are stored. Newcomers are handled one at a time, from a short queue,
 * with a bounded number of keys each: a join burst costs a few RPCs per held key, never a
 * storm.
 */
import { bytesToHex } from '../util/bytes.js';
import { compareDistance } from './keyspace.js';
import { authorKey } from './record.js';
import type { Deadline } from './deadline.js';
import type { RecordStore } from './storage.js';
import type { TableEntry } from './routing-types.js';
import type { Contact, KadNetwork, SignedRecord } from './types.js';

/** What the hand-off needs of its DHT. */
export interface HandoffHost {
  readonly k: number;
  /** This node's position. */
  readonly position: Uint8Array;
  readonly store: RecordStore;
  readonly network: KadNetwork;
  running(): boolean;
  /** This node's closest known contacts to `target`, nearest first, `exclude` left out. */
  closest(target: Uint8Array, count: number, exclude: Uint8Array): TableEntry[];
  rpcDeadline(): Deadline;
  /** Counts the records handed off. */
  handedOff(records: number): void;
}

/** Newcomers waiting; more in one burst are dropped (republish and holder refresh still reach them). */
const MAX_QUEUED = 32;
/** Held keys offered to one newcomer. */
const MAX_KEYS_PER_CONTACT = 32;
/** Held keys scanned per newcomer (a node holding many keys checks only this many). */
const MAX_KEYS_SCANNED = 1024;

/** Hands held records to newcomers near their keys. */
export class RecordHandoff {
  private readonly queue = new Map<string, { contact: Contact; position: Uint8Array }>();
  private running = false;

  constructor(private readonly host: HandoffHost) {}

  /** A contact just entered the routing table. */
  offer(contact: Contact, position: Uint8Array): void {
    if (this.host.store.size === 0 || this.queue.size >= MAX_QUEUED) return;
    this.queue.set(bytesToHex(contact.id), { contact, position });
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (;;) {
        const next = this.queue.entries().next();
        if (next.done === true) break;
        const [id, newcomer] = next.value;
        this.queue.delete(id);
        if (!this.host.running()) continue;
        for (const key of this.keysFor(newcomer.contact, newcomer.position)) {
          if (!this.host.running() || !(await this.handOff(newcomer.contact, key))) break;
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Held keys on which the newcomer is among the k closest this node knows. */
  private keysFor(contact: Contact, position: Uint8Array): Uint8Array[] {
    const keys: Uint8Array[] = [];
    let scanned = 0;
    for (const key of this.host.store.keys()) {
      if (++scanned > MAX_KEYS_SCANNED || keys.length >= MAX_KEYS_PER_CONTACT) break;
      // Among the k closest of the table plus this node: fewer than k - 1 known contacts nearer.
      const nearer = this.host.closest(key, this.host.k - 1, contact.id);
      const kth = nearer[this.host.k - 2];
      if (kth !== undefined && compareDistance(kth.position, position, key) < 0) continue;
      keys.push(key);
    }
    return keys;
  }

  /** Offers one key's records to the newcomer; false when it did not answer (stop offering it more). */
  private async handOff(contact: Contact, key: Uint8Array): Promise<boolean> {
    const held = this.host.store.get(key);
    if (held.length === 0) return true;
    let token: Uint8Array | undefined;
    const has = new Map<string, number>();
    const ask = this.host.rpcDeadline();
    try {
      const answer = await this.host.network.findValue(contact, key, ask.signal);
      token = answer.token;
      for (const record of Array.isArray(answer.records) ? answer.records : []) has.set(authorKey(record), record.seq);
    } catch {
      return false;
    } finally {
      ask.dispose();
    }
    if (token === undefined) return true;
    const missing = held.filter((record: SignedRecord) => (has.get(authorKey(record)) ?? -1) < record.seq);
    let stored = 0;
    for (const record of missing) {
      const limit = this.host.rpcDeadline();
      try {
        await this.host.network.store(contact, key, record, token, limit.signal);
        stored++;
      } catch {
        // A refusal (stale, full) is the newcomer's call; silence ends this key.
        if (limit.signal.aborted) break;
      } finally {
        limit.dispose();
      }
    }
    this.host.handedOff(stored);
    return true;
  }
}
