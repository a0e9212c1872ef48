/**
 * The data directory of `MccNode.create({ dataDir })`: what a node needs to come back after
 * a restart (or a crash) without a bootstrap node and without the application registering
 * again. `identity.json` (the key, the format of src/crypto/identity.ts), `routing.json` (the
 * routing table, src/node/routing-file.ts) and `node.json` (the UDP port and the TCP
 * registrations). Files are written to a temporary file and renamed, mode 0600 in a 0700
 * directory; a damaged file is logged and ignored, never fatal.
 */
import dgram from 'node:dgram';
import { chmod, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MccError } from '../errors.js';
import type { CryptoSuite, KeyPair } from '../crypto/types.js';
import { loadOrCreateIdentity } from '../crypto/identity.js';
import type { ServiceMetadata } from '../discovery/provider-record.js';
import type { Visibility } from '../consortium/policy.js';
import type { Logger } from '../util/logger.js';
import type { MccNodeOptions } from './types.js';
import { contactsFromSnapshot } from '../kademlia/snapshot.js';

/** A registration that survives a restart: a TCP target (an in-process handler cannot be saved). */
export interface SavedService {
  /** Service name. */
  name: string;
  /** Host of the TCP service. */
  host: string;
  /** Port of the TCP service. */
  port: number;
  /** Metadata published with the record. */
  metadata?: ServiceMetadata;
  /** Record lifetime, ms. */
  ttl?: number;
  /** A restricted service's visibility, as it was registered (absent: public). */
  visibility?: Visibility;
}

/** Contents of `node.json`. */
export interface SavedNodeState {
  /** The UDP port the node was bound to: reused, so that peers and records still point at it. */
  port?: number;
  /** The node's TCP registrations. */
  services: SavedService[];
}

const STATE_VERSION = 1;

/** The files of one data directory. */
export class DataDir {
  /** The identity file. */
  readonly identityPath: string;
  /** The routing-table file. */
  readonly routingPath: string;
  /** The node state file (port, registrations). */
  readonly statePath: string;
  /** Writes in order: a later state never loses to an earlier one still being written. */
  private writes: Promise<void> = Promise.resolve();
  private lastWritten: string | undefined;

  private constructor(
    readonly dir: string,
    private readonly logger: Logger,
  ) {
    this.identityPath = join(dir, 'identity.json');
    this.routingPath = join(dir, 'routing.json');
    this.statePath = join(dir, 'node.json');
  }

  /** Creates the directory (mode 0700) when missing. */
  static async open(dir: string, logger: Logger): Promise<DataDir> {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new MccError('ERR_INVALID_ARGUMENT', `invalid argument "dataDir": cannot create ${dir}: ${(error as Error).message}`, { cause: error });
    }
    return new DataDir(dir, logger);
  }

  /**
   * The node's key: loaded, or created when missing. A damaged file is moved aside to
   * `identity.json.damaged-<ms>` (kept for the operator, who may want the key back) and a new
   * identity is created, with a warning: a node must start.
   */
  async identity(suite: CryptoSuite): Promise<KeyPair> {
    try {
      return await loadOrCreateIdentity(this.identityPath, suite);
    } catch (error) {
      if (!(error instanceof MccError) || error.code !== 'ERR_IDENTITY') throw error;
      const aside = `${this.identityPath}.damaged-${Date.now()}`;
      this.logger.warn(`data directory: ${error.message}; moved to ${aside}, starting with a new identity`);
      await rename(this.identityPath, aside).catch(() => undefined);
      return loadOrCreateIdentity(this.identityPath, suite);
    }
  }

  /** Logs a routing file that exists but is damaged (the join then ignores it, as a missing one). */
  async checkRouting(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.routingPath, 'utf8');
    } catch {
      return; // missing: a first start
    }
    let valid = false;
    try {
      valid = contactsFromSnapshot(JSON.parse(text)).length > 0;
    } catch {
      valid = false;
    }
    if (!valid) this.logger.warn(`data directory: ${this.routingPath} is damaged or empty; ignored (the node joins through its bootstrap or LAN peers)`);
  }

  /** The saved state; empty when missing, and when damaged (logged). */
  async readState(): Promise<SavedNodeState> {
    let text: string;
    try {
      text = await readFile(this.statePath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn(`data directory: cannot read ${this.statePath}: ${(error as Error).message}`);
      return { services: [] };
    }
    const state = parseState(text);
    if (!state) {
      this.logger.warn(`data directory: ${this.statePath} is damaged; ignored (registrations are not restored)`);
      return { services: [] };
    }
    this.lastWritten = text;
    return state;
  }

  /** Saves `state` atomically unless it is what the file already holds. Failures are logged. */
  writeState(state: SavedNodeState): Promise<void> {
    const text = JSON.stringify({ version: STATE_VERSION, ...state });
    this.writes = this.writes.then(async () => {
      if (text === this.lastWritten) return;
      try {
        await writeAtomic(this.statePath, text);
        this.lastWritten = text;
      } catch (error) {
        this.logger.warn(`data directory: cannot save ${this.statePath}: ${(error as Error).message}`);
      }
    });
    return this.writes;
  }
}

/** Writes `text` to `path` through a temporary file and a rename, mode 0600. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(temporary, text, { mode: 0o600 });
    await chmod(temporary, 0o600); // the umask may have taken bits off; never more than 0600
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

function isMetadata(value: unknown, depth = 0): value is ServiceMetadata {
  if (depth > 8) return false;
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((item) => isMetadata(item, depth + 1));
  if (typeof value === 'object') return Object.values(value).every((item) => isMetadata(item, depth + 1));
  return false;
}

/** Parses `node.json`; undefined when it is not a version-1 state. Invalid entries are left out. */
export function parseState(text: string): SavedNodeState | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const record = body as Record<string, unknown>;
  if (record.version !== STATE_VERSION || !Array.isArray(record.services)) return undefined;
  const port = Number.isInteger(record.port) && (record.port as number) > 0 && (record.port as number) < 65536 ? (record.port as number) : undefined;
  const services: SavedService[] = [];
  for (const entry of record.services as unknown[]) {
    if (entry === null || typeof entry !== 'object') continue;
    const s = entry as Record<string, unknown>;
    if (typeof s.name !== 'string' || typeof s.host !== 'string' || !Number.isInteger(s.port) || (s.port as number) < 1 || (s.port as number) > 65535) continue;
    if (s.ttl !== undefined && typeof s.ttl !== 'number') continue;
    if (s.metadata !== undefined && !isMetadata(s.metadata)) continue;
    if (s.visibility !== undefined && !isSavedVisibility(s.visibility)) continue;
    services.push({
      name: s.name,
      host: s.host,
      port: s.port as number,
      ...(s.metadata !== undefined ? { metadata: s.metadata } : {}),
      ...(s.ttl !== undefined ? { ttl: s.ttl } : {}),
      ...(s.visibility !== undefined ? { visibility: s.visibility } : {}),
    });
  }
  return { ...(port !== undefined ? { port } : {}), services };
}

/** The shape of a restricted visibility (consortium mode resolves and checks it again on restore). */
function isSavedVisibility(value: unknown): value is Visibility {
  if (value === 'org') return true;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const { orgs, nodes } = value as Record<string, unknown>;
  const strings = (list: unknown) => list === undefined || (Array.isArray(list) && list.every((item) => typeof item === 'string'));
  return strings(orgs) && strings(nodes);
}

/** True when UDP `port` can be bound on `host` right now (the saved port is reused only then). */
export async function udpPortFree(host: string | undefined, port: number): Promise<boolean> {
  const tryBind = (type: 'udp4' | 'udp6', address: string): Promise<boolean | 'no-family'> =>
    new Promise((resolve) => {
      const socket = dgram.createSocket({ type, ipv6Only: false });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        socket.close();
        resolve(error.code === 'EAFNOSUPPORT' || error.code === 'EADDRNOTAVAIL' ? 'no-family' : false);
      });
      socket.bind({ port, address, exclusive: true }, () => socket.close(() => resolve(true)));
    });
  if (host !== undefined) return (await tryBind(host.includes(':') ? 'udp6' : 'udp4', host)) === true;
  const v6 = await tryBind('udp6', '::');
  return v6 === 'no-family' ? (await tryBind('udp4', '0.0.0.0')) === true : v6;
}

/** What `MccNode.create` takes from a data directory. */
export interface OpenedDataDir {
  dir: DataDir;
  saved: SavedNodeState;
  /** The directory's identity; undefined when `options.identity` names another. */
  identity: KeyPair | undefined;
  /** `options` with the directory's defaults filled in: the routing file, and the saved port when it is free. */
  options: MccNodeOptions;
}

/**
 * Opens `options.dataDir`: the identity (unless `options.identity` names another), the saved
 * state, the routing file (unless `options.routingTable` names another) and the saved UDP
 * port (unless `options.port` is given, and only while nothing else holds it).
 */
export async function openDataDir(options: MccNodeOptions & { dataDir: string }, suite: CryptoSuite, logger: Logger): Promise<OpenedDataDir> {
  const dir = await DataDir.open(options.dataDir, logger);
  const identity = options.identity === undefined ? await dir.identity(suite) : undefined;
  const saved = await dir.readState();
  if (options.routingTable === undefined) await dir.checkRouting();
  let port = options.port;
  if (port === undefined && saved.port !== undefined && options.transport === undefined) {
    if (await udpPortFree(options.host, saved.port)) port = saved.port;
    else logger.warn(`data directory: UDP port ${saved.port} is taken; binding another (peers learn it from the republished records)`);
  }
  return {
    dir,
    saved,
    identity,
    options: { ...options, routingTable: options.routingTable ?? dir.routingPath, ...(port !== undefined ? { port } : {}) },
  };
}
