/**
 * Kademlia over the wire: `KadNetwork` implemented on the node's RPC layer (sealed
 * sessions), and the server side that answers FIND_NODE / FIND_VALUE / STORE / KAD_PING
 * from a `DhtCore`. Answers are cut to fit one datagram; FIND_VALUE pages its records:
 * page 0 answers the lookup (contacts, first records, the record count), and the reader
 * fetches further pages by offset after its lookup ended (dht.ts, paging.ts).
 */
import type { RpcLayer } from '../session/rpc.js';
import type { InboundMessage } from '../session/session.js';
import { MccError } from '../errors.js';
import { fromSocketAddress, ipToBytes, toSocketAddress } from '../wire/address.js';
import { encodeContactEntry, withEncodedContacts, type Contact as WireContact, type DhtRecord, type Envelope } from '../wire/codec.js';
import { DhtRecordCodec } from '../wire/generated/mcc.types.js';
import type { Contact, FindNodeResult, FindValuePage, FindValueResult, KadNetwork, SignedRecord } from './types.js';
import type { DhtCore } from './dht-core.js';
import type { ContactEncoder } from './routing-table.js';
import type { Address } from '../util/address.js';

/** Bytes of an answer body we allow; the rest of the 1135-byte envelope budget covers rid, tokens and framing. */
export const ANSWER_BUDGET = 1000;
/** Share of the budget page 0 may spend on contacts when records follow (the lookup still converges on fewer). */
const CONTACT_SHARE_WITH_RECORDS = 520;
/** Budget of a page after the first: no contacts and no token share its datagram. */
export const PAGE_BUDGET = 1080;

/** Options of the {@link RpcKadNetwork}. */
export interface RpcKadNetworkOptions {
  rpc: RpcLayer;
  /** True while this node runs in client mode (requests say so; others then keep us out of their tables). */
  clientMode: () => boolean;
  /** Called with every contact that answered us (the DHT observes it). */
  onAnswer?: (contact: Contact) => void;
  /** Time budget of one request (the DHT also passes its own deadline signal). */
  timeoutMs?: number;
  /**
   * False for contact addresses this node cannot send to (the other IP family than its socket's):
   * such contacts in answers are skipped, as if the answer had not held them. Default: all.
   */
  reachable?: (address: Address) => boolean;
}

/** The client side: outgoing Kademlia RPCs over sealed sessions. */
export class RpcKadNetwork implements KadNetwork {
  /** Bytes of records a page after the first carries. */
  readonly pageBytes = PAGE_BUDGET;

  constructor(private readonly options: RpcKadNetworkOptions) {}

  async ping(to: Contact, signal?: AbortSignal): Promise<void> {
    await this.call(to, { kadPing: { clientMode: this.options.clientMode() } }, signal);
  }

  async findNode(to: Contact, target: Uint8Array, signal?: AbortSignal): Promise<FindNodeResult> {
    const answer = await this.call(to, { findNode: { target, clientMode: this.options.clientMode() } }, signal);
    const body = answer.envelope.findNodeResult;
    if (!body) throw new MccError('ERR_PEER', 'FIND_NODE answered with another message');
    return withToken({ contacts: contactsFromWire(body.contacts, this.options.reachable) }, body.token);
  }

  /** Page 0 only: contacts, the first records and `total`; the DHT fetches the rest after the lookup. */
  async findValue(to: Contact, key: Uint8Array, signal?: AbortSignal): Promise<FindValueResult> {
    const first = await this.requestPage(to, key, 0, 0, signal);
    return withToken({ contacts: first.contacts, records: first.records, total: first.total }, first.token);
  }

  /** One further page of `to`'s records under `key` (a FIND_VALUE with an offset). */
  async findValuePage(to: Contact, key: Uint8Array, offset: number, limit: number, signal?: AbortSignal): Promise<FindValuePage> {
    const page = await this.requestPage(to, key, offset, limit, signal);
    return { records: page.records, total: page.total };
  }

  async store(to: Contact, key: Uint8Array, record: SignedRecord, token: Uint8Array, signal?: AbortSignal): Promise<void> {
    const answer = await this.call(to, { store: { key, record: recordToWire(record), token, clientMode: this.options.clientMode() } }, signal);
    const result = answer.envelope.storeResult;
    if (!result) throw new MccError('ERR_PEER', 'STORE answered with another message');
    if (!result.ok) throw new MccError('ERR_PEER', `store refused: ${result.reason || 'unknown'}`, { details: { reason: result.reason } });
  }

  rtt(to: Contact): number | undefined {
    return this.options.rpc.rtt(to.id);
  }

  private async requestPage(to: Contact, key: Uint8Array, offset: number, limit: number, signal?: AbortSignal) {
    const answer = await this.call(to, { findValue: { key, offset, limit, clientMode: this.options.clientMode() } }, signal);
    const body = answer.envelope.findValueResult;
    if (!body) throw new MccError('ERR_PEER', 'FIND_VALUE answered with another message');
    const records: SignedRecord[] = [];
    for (const wire of body.records ?? []) {
      const record = recordFromWire(wire, key);
      if (record) records.push(record);
    }
    return { contacts: contactsFromWire(body.contacts, this.options.reachable), records, total: body.total ?? 0, token: body.token };
  }

  private async call(to: Contact, body: Envelope, signal?: AbortSignal): Promise<InboundMessage> {
    const answer = await this.options.rpc.request(to, body, { signal, timeoutMs: this.options.timeoutMs });
    this.options.onAnswer?.({ id: answer.from.id, address: answer.from.address });
    return answer;
  }
}

/**
 * Registers the server side on `rpc`: every Kademlia request is answered from `dht`,
 * and its sender observed (unless it says it runs in client mode).
 */
export function serveKademlia(rpc: RpcLayer, dht: DhtCore): void {
  const sender = (request: InboundMessage): Contact => ({ id: request.from.id, address: request.from.address });
  rpc.handle('kadPing', (request) => {
    dht.observe(sender(request), { clientMode: request.envelope.kadPing?.clientMode === true });
    return { pong: { observed: toSocketAddress(request.from.address) } };
  });
  rpc.handle('findNode', (request) => {
    const body = request.envelope.findNode!;
    const from = sender(request);
    dht.observe(from, { clientMode: body.clientMode === true });
    const result = dht.handleFindNodeEncoded(from, body.target ?? new Uint8Array(0), encodeContact);
    return { findNodeResult: withEncodedContacts({ contacts: [], token: result.token }, entriesWithin(result.contacts, ANSWER_BUDGET)) };
  });
  rpc.handle('findValue', (request) => {
    const body = request.envelope.findValue!;
    const from = sender(request);
    dht.observe(from, { clientMode: body.clientMode === true });
    const key = body.key ?? new Uint8Array(0);
    const offset = body.offset ?? 0;
    const limit = body.limit && body.limit > 0 ? body.limit : Number.MAX_SAFE_INTEGER;
    if (offset > 0 || limit !== Number.MAX_SAFE_INTEGER) {
      // A page fetch (readers always set a limit then; a lookup's FIND_VALUE asks offset 0 with
      // no limit): records only, with the whole budget, and no lookup work (contacts, token).
      const held = dht.heldRecords(key);
      return { findValueResult: { contacts: [], records: recordsToWire(held, offset, limit, PAGE_BUDGET), offset, total: held.length } };
    }
    const result = dht.handleFindValueEncoded(from, key, encodeContact);
    const held = result.records;
    const contacts = entriesWithin(result.contacts, held.length > 0 ? CONTACT_SHARE_WITH_RECORDS : ANSWER_BUDGET);
    const records = recordsToWire(held, 0, limit, ANSWER_BUDGET - totalLength(contacts));
    return { findValueResult: withEncodedContacts({ contacts: [], token: result.token, records, offset, total: held.length }, contacts) };
  });
  rpc.handle('store', (request) => {
    const body = request.envelope.store!;
    const from = sender(request);
    dht.observe(from, { clientMode: body.clientMode === true });
    const key = body.key ?? new Uint8Array(0);
    const record = body.record ? recordFromWire(body.record, key) : undefined;
    if (!record) return { storeResult: { ok: false, reason: 'invalid' } };
    const result = dht.handleStore(from, key, record, body.token ?? new Uint8Array(0));
    return { storeResult: result.ok ? { ok: true } : { ok: false, reason: result.reason } };
  });
}

function withToken<T extends FindNodeResult>(result: T, token: Uint8Array | null | undefined): T {
  if (token && token.length > 0) result.token = token;
  return result;
}

/**
 * IP bytes by host string, for answers: every FIND answer carries up to 20 contacts, mostly
 * the same few hosts, so each host is parsed once. The arrays are shared and only read (by
 * the encoder). Cleared when full rather than LRU-ordered: a hit costs one Map lookup.
 */
const ipBytesCache = new Map<string, Uint8Array | null>();
const IP_CACHE_LIMIT = 4096;

function cachedIpBytes(host: string): Uint8Array | null {
  let ip = ipBytesCache.get(host);
  if (ip === undefined) {
    ip = ipToBytes(host);
    if (ipBytesCache.size >= IP_CACHE_LIMIT) ipBytesCache.clear();
    ipBytesCache.set(host, ip);
  }
  return ip;
}

/**
 * A contact as the `repeated Contact` element answers carry, made once per routing-table
 * entry (the table keeps it until the entry's address changes). One module-level function,
 * so the table sees the same encoder every time and keeps its cache.
 */
const encodeContact: ContactEncoder<Uint8Array> = (id, host, port) => {
  const ip = cachedIpBytes(host);
  // A contact whose address has no wire form cannot happen for UDP peers: skip it.
  return ip === null ? null : encodeContactEntry(id, ip, port);
};

/** The leading `entries` whose bytes fit `budget`. */
function entriesWithin(entries: Uint8Array[], budget: number): Uint8Array[] {
  let used = 0;
  for (let i = 0; i < entries.length; i++) {
    used += entries[i].length;
    if (used > budget) return entries.slice(0, i);
  }
  return entries;
}

function totalLength(entries: Uint8Array[]): number {
  let size = 0;
  for (const entry of entries) size += entry.length;
  return size;
}

function contactsFromWire(contacts: WireContact[] | null | undefined, reachable?: (address: Address) => boolean): Contact[] {
  const out: Contact[] = [];
  for (const wire of contacts ?? []) {
    const address = fromSocketAddress(wire.address);
    if (address && wire.id && wire.id.length === 32 && (reachable === undefined || reachable(address))) out.push({ id: wire.id, address });
  }
  return out;
}

export function recordToWire(record: SignedRecord): DhtRecord {
  return {
    author: record.author,
    seq: record.seq,
    expiresAt: record.expiresAt,
    value: record.value,
    salt: record.salt,
    withdrawn: record.withdrawn === true,
    signature: record.signature,
  };
}

/** A wire record as a SignedRecord under `key`, or undefined when fields are missing (checked again by the DHT). */
export function recordFromWire(wire: DhtRecord, key: Uint8Array): SignedRecord | undefined {
  if (typeof wire.seq !== 'number' || typeof wire.expiresAt !== 'number') return undefined;
  const record: SignedRecord = {
    key,
    author: wire.author ?? new Uint8Array(0),
    seq: wire.seq,
    expiresAt: wire.expiresAt,
    value: wire.value ?? new Uint8Array(0),
    signature: wire.signature ?? new Uint8Array(0),
  };
  if (wire.salt && wire.salt.length > 0) record.salt = wire.salt;
  if (wire.withdrawn) record.withdrawn = true;
  return record;
}

/** Records `offset`.. of `held` as wire records, at most `limit`, as many as fit `budget` bytes. */
function recordsToWire(held: SignedRecord[], offset: number, limit: number, budget: number): DhtRecord[] {
  const records: DhtRecord[] = [];
  for (let i = offset; i < held.length && records.length < limit; i++) {
    const wire = recordToWire(held[i]);
    const size = DhtRecordCodec.encode(wire).finish().length + 3;
    if (size > budget) break;
    budget -= size;
    records.push(wire);
  }
  return records;
}
