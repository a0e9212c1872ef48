/**
 * The routing-table file of `MccNode.create({ routingTable: path })`: written on stop(),
 * read on start(), so a restarted node rejoins through the peers it knew, without the
 * bootstrap nodes. Written to a temporary file and renamed, so a crash never leaves half a file.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { contactsFromSnapshot, type RoutingSnapshot } from '../kademlia/snapshot.js';
import type { Contact } from '../kademlia/types.js';

/** Contacts saved in `path`; none when the file is missing or unreadable (a first start is normal). */
export async function readRoutingFile(path: string): Promise<Contact[]> {
  try {
    return contactsFromSnapshot(JSON.parse(await readFile(path, 'utf8')));
  } catch {
    return [];
  }
}

/** Saves `snapshot` to `path` atomically. */
export async function writeRoutingFile(path: string, snapshot: RoutingSnapshot): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(snapshot), { mode: 0o600 });
  await rename(temporary, path);
}
