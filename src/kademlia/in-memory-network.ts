/**
 * An in-process stand-in for the wire, for tests, benchmarks and simulations: RPCs go
 * straight to the target node's handlers after a simulated one-way latency (with jitter),
 * and each request or response may be lost. It replaces the session layer only; the DHT
 * code under test is the real one. Time comes from the injected clock (a VirtualClock in
 * tests), randomness from an injected generator so runs are reproducible.
 */
import { abortError } from '../errors.js';
import type { Clock } from '../util/clock.js';
import { equalBytes } from '../util/bytes.js';
import type { Contact, FindNodeResult, FindValuePage, FindValueResult, KadNetwork, ObserveOptions, SignedRecord, StoreResult } from './types.js';
import { CONTACT_WIRE_BYTES, recordWireBytes } from './wire-size.js';
import { mulberry32 } from '../util/random.js';
import { idSlot } from './keyspace.js';

/** The inbound side of a node, as the session layer would drive it. A `Dht` satisfies it. */
export interface KadHandlers {
  observe(contact: Contact, options?: ObserveOptions): void;
  handleFindNode(from: Contact, target: Uint8Array): FindNodeResult;
  handleFindValue(from: Contact, key: Uint8Array): FindValueResult;
  handleStore(from: Contact, key: Uint8Array, record: SignedRecord, token: Uint8Array): StoreResult;
  /** The node's current client-mode flag, when it can change at run time (a Dht's); else the join option holds. */
  readonly clientMode?: boolean;
}

/** Link model of an {@link InMemoryKadHub}. */
export interface InMemoryKadHubOptions {
  clock: Clock;
  /** One-way latency, ms. Default 25. */
  latencyMs?: number;
  /** Uniform extra one-way delay in [0, jitterMs), ms. Default 0. */
  jitterMs?: number;
  /** Probability that any one message (request or response) is lost. Default 0. */
  loss?: number;
  /** Random source in [0, 1). Default a fixed-seed generator, so runs repeat. */
  random?: () => number;
  /**
   * Bytes of contacts and records one FIND_VALUE answer may carry (estimated protobuf
   * sizes), as a datagram limits them on the wire: larger record sets are paged (page 0
   * with the lookup's answer, the rest through `findValuePage`). Default: unlimited.
   */
  answerBytes?: number;
}

/** Share of a page-0 budget contacts may use when records follow (the wire adapter does the same). */
const CONTACT_SHARE = 0.52;

interface Member {
  contact: Contact;
  clientMode: boolean;
  handlers: KadHandlers | undefined;
  online: boolean;
}

/** A member's client-mode flag as its requests and answers carry it now (the node may switch). */
function inClientMode(member: Member): boolean {
  return member.handlers?.clientMode ?? member.clientMode;
}

/** Deterministic PRNG (mulberry32) for reproducible simulations. */
export const seededRandom: (seed: number) => () => number = mulberry32;

/** Delivers KadNetwork calls between in-process nodes. */
export class InMemoryKadHub {
  /** Requests sent (each RPC is one request and, unless lost, one response). */
  requests = 0;
  /** FIND_VALUE page fetches (records past the first answer), for tests and benchmarks. */
  pageRequests = 0;
  private readonly members = new Map<number, Member[]>();
  private readonly random: () => number;

  constructor(private readonly options: InMemoryKadHubOptions) {
    this.random = options.random ?? seededRandom(1);
  }

  /** Changes the per-message loss probability from now on. */
  setLoss(loss: number): void {
    this.options.loss = loss;
  }

  /** Joins a node: returns the KadNetwork it sends through; call `attach` with its handlers. */
  join(contact: Contact, options: { clientMode?: boolean } = {}): InMemoryEndpoint {
    const member: Member = { contact, clientMode: options.clientMode ?? false, handlers: undefined, online: true };
    this.leave(contact.id);
    const slot = idSlot(contact.id);
    const list = this.members.get(slot);
    if (list === undefined) this.members.set(slot, [member]);
    else list.push(member);
    return new InMemoryEndpoint(this, member);
  }

  private find(id: Uint8Array): Member | undefined {
    const list = this.members.get(idSlot(id));
    if (list === undefined) return undefined;
    for (const member of list) if (equalBytes(member.contact.id, id)) return member;
    return undefined;
  }

  /** Takes a node off the network (it neither receives nor answers) or brings it back. */
  setOnline(id: Uint8Array, online: boolean): void {
    const member = this.find(id);
    if (member !== undefined) member.online = online;
  }

  /** Removes a node for good. */
  leave(id: Uint8Array): void {
    const list = this.members.get(idSlot(id));
    if (list === undefined) return;
    const at = list.findIndex((member) => equalBytes(member.contact.id, id));
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) this.members.delete(idSlot(id));
  }

  /** @internal Sends one request from `from` and resolves with the answer unless lost. */
  call<T>(from: Member, to: Contact, signal: AbortSignal | undefined, handle: (handlers: KadHandlers, fromContact: Contact) => T): Promise<T> {
    this.requests++;
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      let settled = false;
      const onAbort = () => {
        if (settled) return;
        settled = true;
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (!from.online || this.lost()) return;
      this.options.clock.setTimeout(() => {
        const target = this.find(to.id);
        // A wrong address or an offline node: the session never authenticates, nothing comes back.
        if (settled || target === undefined || !target.online || target.handlers === undefined) return;
        if (target.contact.address.host !== to.address.host || target.contact.address.port !== to.address.port) return;
        target.handlers.observe(from.contact, { clientMode: inClientMode(from) });
        let answer: T;
        try {
          answer = handle(target.handlers, from.contact);
        } catch {
          return; // a crashing handler is a lost request, as on the wire
        }
        if (this.lost()) return;
        this.options.clock.setTimeout(() => {
          if (settled || !from.online) return;
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          from.handlers?.observe(target.contact, { clientMode: inClientMode(target) });
          resolve(answer);
        }, this.delay());
      }, this.delay());
    });
  }

  /** Per-answer byte limit of FIND_VALUE, if any. */
  get answerBytes(): number | undefined {
    return this.options.answerBytes;
  }

  private lost(): boolean {
    const loss = this.options.loss ?? 0;
    return loss > 0 && this.random() < loss;
  }

  private delay(): number {
    return (this.options.latencyMs ?? 25) + (this.options.jitterMs ? this.random() * this.options.jitterMs : 0);
  }
}

/** One node's outgoing side on an {@link InMemoryKadHub}. */
export class InMemoryEndpoint implements KadNetwork {
  constructor(
    private readonly hub: InMemoryKadHub,
    private readonly member: Member,
  ) {}

  /** Installs the node's inbound handlers (usually its Dht). */
  attach(handlers: KadHandlers): void {
    this.member.handlers = handlers;
  }

  ping(to: Contact, signal?: AbortSignal): Promise<void> {
    return this.hub.call(this.member, to, signal, () => undefined);
  }

  findNode(to: Contact, target: Uint8Array, signal?: AbortSignal): Promise<FindNodeResult> {
    return this.hub.call(this.member, to, signal, (h, from) => h.handleFindNode(from, target));
  }

  /** Bytes of records per page when the hub limits answers (see {@link InMemoryKadHubOptions.answerBytes}). */
  get pageBytes(): number | undefined {
    return this.hub.answerBytes;
  }

  findValue(to: Contact, key: Uint8Array, signal?: AbortSignal): Promise<FindValueResult> {
    return this.hub.call(this.member, to, signal, (h, from) => {
      const answer = h.handleFindValue(from, key);
      const budget = this.hub.answerBytes;
      const held = Array.isArray(answer.records) ? answer.records : [];
      if (budget === undefined) return { ...answer, total: held.length };
      const contactBytes = held.length > 0 ? Math.floor(budget * CONTACT_SHARE) : budget;
      const contacts = Array.isArray(answer.contacts) ? answer.contacts.slice(0, Math.floor(contactBytes / CONTACT_WIRE_BYTES)) : answer.contacts;
      const used = (Array.isArray(contacts) ? contacts.length : 0) * CONTACT_WIRE_BYTES;
      return { ...answer, contacts, records: fitRecords(held, 0, Number.MAX_SAFE_INTEGER, budget - used), total: held.length };
    });
  }

  findValuePage(to: Contact, key: Uint8Array, offset: number, limit: number, signal?: AbortSignal): Promise<FindValuePage> {
    this.hub.pageRequests++;
    return this.hub.call(this.member, to, signal, (h, from) => {
      const answer = h.handleFindValue(from, key);
      const held = Array.isArray(answer.records) ? answer.records : [];
      const max = limit > 0 ? limit : Number.MAX_SAFE_INTEGER;
      return { records: fitRecords(held, offset, max, this.hub.answerBytes ?? Number.MAX_SAFE_INTEGER), total: held.length };
    });
  }

  async store(to: Contact, key: Uint8Array, record: SignedRecord, token: Uint8Array, signal?: AbortSignal): Promise<void> {
    const result = await this.hub.call(this.member, to, signal, (h, from) => h.handleStore(from, key, record, token));
    if (!result.ok) throw new Error(`store refused: ${result.reason}`);
  }
}

/** Records `offset`.. of `held`, at most `limit`, as many as fit `budget` bytes (at least one, as a datagram would carry). */
function fitRecords(held: SignedRecord[], offset: number, limit: number, budget: number): SignedRecord[] {
  const out: SignedRecord[] = [];
  let used = 0;
  for (let i = Math.max(0, offset); i < held.length && out.length < limit; i++) {
    const size = safeSize(held[i]);
    if (used + size > budget && out.length > 0) break;
    if (used + size > budget && offset === 0) break; // page 0 shares its datagram with contacts: may carry none
    used += size;
    out.push(held[i]);
  }
  return out;
}

/** Size of an untrusted record (hostile handlers answer garbage): malformed ones count as small. */
function safeSize(record: SignedRecord): number {
  try {
    return recordWireBytes(record);
  } catch {
    return 16;
  }
}
