/**
 * Routing-table snapshots: saved on stop, reloaded on start so a restarted node rejoins
 * through the peers it knew instead of the bootstrap list. Restored contacts are only
 * seeds for the join lookup; they enter the table again when they answer (authenticated).
 */
import { bytesToHex, hexToBytes } from '../util/bytes.js';
import type { RoutingTable } from './routing-table.js';
import { validContact } from './lookup.js';
import type { Contact } from './types.js';

/** JSON-friendly form of a routing table. */
export interface RoutingSnapshot {
  version: 1;
  contacts: Array<{ id: string; host: string; port: number }>;
}

/** Most contacts a snapshot keeps (most recently seen first). */
const MAX_SNAPSHOT = 512;

/** Captures the table's contacts, most recently seen first. */
export function snapshotTable(table: RoutingTable): RoutingSnapshot {
  const entries = [...table.entries()].sort((a, b) => b.lastSeen - a.lastSeen).slice(0, MAX_SNAPSHOT);
  return { version: 1, contacts: entries.map((e) => ({ id: bytesToHex(e.contact.id), host: e.contact.address.host, port: e.contact.address.port })) };
}

/** Parses a snapshot (from disk: untrusted shape); malformed entries are skipped, never thrown. */
export function contactsFromSnapshot(snapshot: unknown): Contact[] {
  if (snapshot === null || typeof snapshot !== 'object' || (snapshot as RoutingSnapshot).version !== 1) return [];
  const list = (snapshot as RoutingSnapshot).contacts;
  if (!Array.isArray(list)) return [];
  const out: Contact[] = [];
  for (const item of list.slice(0, MAX_SNAPSHOT)) {
    try {
      const contact = { id: hexToBytes(String(item.id)), address: { host: String(item.host), port: Number(item.port) } };
      if (validContact(contact)) out.push(contact);
    } catch {
      // skip malformed entry
    }
  }
  return out;
}
