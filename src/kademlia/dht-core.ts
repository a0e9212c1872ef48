/**
 * One node's Kademlia DHT: routing-table upkeep, the server side of the four RPCs,
 * iterative lookups, and timers for bucket refresh, expiry, author republish and holder
 * refresh. Network-agnostic: outgoing RPCs go through {@link KadNetwork}, time through the
 * injected `Clock`; the node calls `observe` and the `handle*` methods for inbound
 * authenticated messages. Value put/get lives in `dht.ts` (class `Dht`) on top of this class.
 */
import { subnetGroup } from './subnet.js';
import { MccError, invalidArgument } from '../errors.js';
import { bytesToHex } from '../util/bytes.js';
import type { TimerHandle } from '../util/clock.js';
import { LruMap } from '../util/lru.js';
import { deadline, linkedController, type Deadline } from './deadline.js';
import { Positions, isId, randomPositionInBucket, sameId } from './keyspace.js';
import { iterativeLookup, validContact, type LookupResult, type QueryAnswer } from './lookup.js';
import { RoutingTable, type ContactEncoder, type TableEntry } from './routing-table.js';
import { snapshotTable, type RoutingSnapshot } from './snapshot.js';
import { RecordStore } from './storage.js';
import { ID_LENGTH, type Contact, type FindNodeResult, type FindValueResult, type ObserveOptions, type SignedRecord, type StoreResult } from './types.js';
import { WriteTokens } from './write-tokens.js';
import type { DhtOptions, DhtStats } from './dht-options.js';

/** Client-mode peers remembered (see DhtCore.observe). */
const CLIENT_MODE_MEMORY = 1024;

/** Empty answer object for handlers, so hot paths allocate nothing when nothing is found. */
const NO_RECORDS: SignedRecord[] = [];

/** The Kademlia core of one node. */
export class DhtCore {
  readonly id: Uint8Array;
  readonly idHex: string;
  /** Our position: SHA-256 of our ID. */
  readonly position: Uint8Array;
  readonly k: number;
  readonly positions: Positions;
  readonly table: RoutingTable;
  readonly store: RecordStore;
  private mode: boolean;
  readonly stats: DhtStats = { lookups: 0, queries: 0, storesReceived: 0, storesRejected: 0, malformedContacts: 0, recordsHandedOff: 0 };
  /** Hooks run on every maintenance tick (dht.ts registers republish and holder refresh). */
  readonly maintenanceHooks: Array<() => void> = [];
  /** Hooks run when a contact enters the routing table (dht.ts hands it records). */
  readonly contactAddedHooks: Array<(contact: Contact, position: Uint8Array) => void> = [];
  private readonly tokens: WriteTokens;
  private readonly wall: () => number;
  private typicalRtt: number | undefined;
  private tick: TimerHandle | undefined;
  private running = false;
  /** Peers whose last request said client mode (hex IDs, least recently flagged evicted first): answers do not re-add them. */
  private readonly clientModePeers = new LruMap<string, true>(CLIENT_MODE_MEMORY);
  /** Lookups and RPC deadlines in progress, aborted by {@link DhtCore.stop}. */
  private readonly inflight = new Set<{ abort(reason?: unknown): void }>();

  constructor(readonly options: DhtOptions) {
    if (!isId(options.id)) throw invalidArgument('id', 'must be a 32-byte node ID');
    this.id = Uint8Array.from(options.id);
    this.idHex = bytesToHex(this.id);
    this.k = options.k ?? 20;
    this.mode = options.clientMode ?? false;
    this.positions = new Positions(options.suite);
    this.position = this.positions.of(this.id);
    this.wall = options.wallClock ?? (() => Date.now());
    this.table = new RoutingTable({
      self: this.position,
      clock: options.clock,
      k: this.k,
      ...(options.wideBuckets ? { wideBuckets: options.wideBuckets } : {}),
    });
    this.store = new RecordStore({ suite: options.suite, wallClock: this.wall, ...options.storage });
    this.tokens = new WriteTokens(options.suite, options.clock);
  }

  /** Client mode: query, but stay out of others' routing tables. Settable: the node switches it when its reachability changes. */
  get clientMode(): boolean {
    return this.mode;
  }

  /**
   * Switching to client mode (a NAT verdict says we are unreachable) tells our nearest
   * contacts at once with a KAD_PING that carries the flag: they drop us from their tables
   * (see {@link DhtCore.observe}) instead of routing lookups to us until requests time out.
   */
  set clientMode(value: boolean) {
    const was = this.mode;
    this.mode = value;
    if (value && !was && this.running) this.announceClientMode();
  }

  private announceClientMode(): void {
    for (const contact of this.closestContacts(this.position, undefined, this.options.clientModeAnnounce ?? 2 * this.k)) {
      const limit = this.rpcDeadline();
      this.options.network.ping(contact, limit.signal).then(
        () => limit.dispose(),
        () => limit.dispose(),
      );
    }
  }

  /** Wall-clock ms since the epoch as this DHT sees it. */
  wallNow(): number {
    return this.wall();
  }

  /** True between {@link DhtCore.start} and {@link DhtCore.stop}. */
  get started(): boolean {
    return this.running;
  }

  /**
   * Starts the maintenance timer and joins through `seeds` (bootstrap contacts or a
   * restored snapshot). Resolves once the join lookup ended; a failed join is not an
   * error (a lone first node is normal), the routing table just stays empty.
   */
  async start(seeds: Contact[] = [], signal?: AbortSignal): Promise<void> {
    if (this.running) throw new MccError('ERR_ALREADY_STARTED', 'DHT already started');
    this.running = true;
    this.schedule();
    if (seeds.length > 0) await this.bootstrap(seeds, signal);
  }

  /** Stops timers and aborts every lookup and RPC this DHT started. */
  stop(): void {
    this.running = false;
    if (this.tick !== undefined) this.options.clock.clearTimeout(this.tick);
    this.tick = undefined;
    const reason = new MccError('ERR_STOPPED', 'DHT stopped');
    for (const operation of [...this.inflight]) operation.abort(reason);
    this.inflight.clear();
  }

  /**
   * Joins the network: looks up our own position through `seeds` (filling the table with
   * whoever answers), then refreshes the non-full bucket just outside our nearest
   * neighbour's (`joinRefreshBuckets` of them, nearest first). Those ranges are small, so
   * few other nodes' traffic lands there by chance; the wide far buckets fill from the requests of others' lookups (a
   * random node falls into bucket i with probability 2^-(i+1)) and from maintenance refresh.
   * Refreshing every non-full bucket instead cost a lookup of ~20 queries per bucket.
   */
  async bootstrap(seeds: Contact[], signal?: AbortSignal): Promise<LookupResult> {
    const result = await this.lookup(this.position, { signal, seeds });
    const nearest = result.closest[0];
    if (nearest !== undefined && this.options.refreshOnJoin !== false) {
      const upTo = this.table.bucketIndex(nearest.position);
      const limit = this.options.joinRefreshBuckets ?? 1;
      const refreshes: Promise<unknown>[] = [];
      for (let i = upTo - 1; i >= 0 && refreshes.length < limit; i--) {
        if (this.table.bucketSize(i) < this.k) refreshes.push(this.refreshBucket(i, signal).catch(() => undefined));
      }
      await Promise.all(refreshes);
    }
    return result;
  }

  /**
   * An authenticated message arrived from `contact`. Adds or refreshes it in the routing
   * table; a full bucket triggers a liveness ping of its least-recently-seen entry, evicted
   * only if that ping fails. A contact that says it runs in client mode is removed: it
   * became unreachable (its NAT verdict changed), so lookups must stop being routed to it.
   */
  observe(contact: Contact, options?: ObserveOptions): void {
    if (!validContact(contact) || sameId(contact.id, this.id)) return;
    const flag = options?.clientMode;
    if (flag === true) {
      this.table.remove(contact.id, this.positions.of(contact.id));
      this.rememberClientMode(contact.id);
      return;
    }
    if (this.clientModePeers.size > 0) {
      // An answer (no flag) from a peer that said it runs in client mode does not bring it back;
      // a request of its own that says server mode (flag false) does.
      const key = bytesToHex(contact.id);
      if (flag === false) this.clientModePeers.delete(key);
      else if (this.clientModePeers.has(key)) return;
    }
    const position = this.positions.of(contact.id);
    const outcome = this.table.observe(contact, position);
    if (outcome.kind === 'ping') this.checkLiveness(outcome.stale);
    else if (outcome.kind === 'added') for (const hook of this.contactAddedHooks) hook(contact, position);
  }

  private rememberClientMode(id: Uint8Array): void {
    this.clientModePeers.set(bytesToHex(id), true);
  }

  private checkLiveness(stale: TableEntry): void {
    const limit = this.rpcDeadline();
    this.options.network
      .ping(stale.contact, limit.signal)
      .then(
        () => this.table.pingResult(stale, true),
        () => this.table.pingResult(stale, false),
      )
      .finally(() => limit.dispose());
  }

  /** Server side of FIND_NODE: our k closest to `target` (never the requester) and a write token. */
  handleFindNode(from: Contact, target: Uint8Array): FindNodeResult {
    if (!isId(target)) return { contacts: [] };
    return { contacts: this.closestContacts(target, from.id), token: this.tokens.issue(from) };
  }

  /** Server side of FIND_VALUE: records held under `key` (maybe none), closer contacts, and a write token. */
  handleFindValue(from: Contact, key: Uint8Array): FindValueResult {
    if (!isId(key)) return { contacts: [], records: NO_RECORDS };
    const records = this.store.get(key);
    return { contacts: this.closestContacts(key, from.id), records: records.length > 0 ? records : NO_RECORDS, token: this.tokens.issue(from) };
  }

  /** {@link DhtCore.handleFindNode} with contacts as `encode` makes them, each once per table entry (the wire server's answers). */
  handleFindNodeEncoded<T>(from: Contact, target: Uint8Array, encode: ContactEncoder<T>): { contacts: T[]; token?: Uint8Array } {
    if (!isId(target)) return { contacts: [] };
    return { contacts: this.table.closestEncoded(target, this.k, from.id, encode), token: this.tokens.issue(from) };
  }

  /** {@link DhtCore.handleFindValue} with contacts as `encode` makes them (see {@link DhtCore.handleFindNodeEncoded}). */
  handleFindValueEncoded<T>(from: Contact, key: Uint8Array, encode: ContactEncoder<T>): { contacts: T[]; records: SignedRecord[]; token?: Uint8Array } {
    if (!isId(key)) return { contacts: [], records: NO_RECORDS };
    const records = this.store.get(key);
    return {
      contacts: this.table.closestEncoded(key, this.k, from.id, encode),
      records: records.length > 0 ? records : NO_RECORDS,
      token: this.tokens.issue(from),
    };
  }

  /** Unexpired records held under `key` (what FIND_VALUE pages serve). */
  heldRecords(key: Uint8Array): SignedRecord[] {
    return isId(key) ? this.store.get(key) : NO_RECORDS;
  }

  /** Server side of STORE: checks the write token, then verifies and stores the record. Never throws. */
  handleStore(from: Contact, key: Uint8Array, record: SignedRecord, token: Uint8Array): StoreResult {
    this.stats.storesReceived++;
    if (!this.tokens.verify(from, token)) {
      this.stats.storesRejected++;
      return { ok: false, reason: 'token' };
    }
    if (!isId(key)) {
      this.stats.storesRejected++;
      return { ok: false, reason: 'invalid' };
    }
    const net = subnetGroup(from.address.host);
    const result = this.store.put(key, record, bytesToHex(from.id), net === undefined ? undefined : String(net));
    if (!result.ok) this.stats.storesRejected++;
    return result;
  }

  /** The routing table's contacts for a fast restart (feed them back with `contactsFromSnapshot` to {@link DhtCore.start}). */
  snapshot(): RoutingSnapshot {
    return snapshotTable(this.table);
  }

  /** Our k closest known contacts to `target`, excluding `exclude`. */
  closestContacts(target: Uint8Array, exclude?: Uint8Array, count = this.k): Contact[] {
    return this.table.closestContacts(target, count, exclude);
  }

  /** Iterative FIND_NODE lookup of `target` (a 32-byte position or key). */
  lookup(target: Uint8Array, options: { signal?: AbortSignal; seeds?: Contact[] } = {}): Promise<LookupResult> {
    return this.runLookup(target, (to, signal) => this.options.network.findNode(to, target, signal), options);
  }

  /**
   * Iterative FIND_VALUE lookup of `key`; `onAnswer` sees every answer (records included)
   * and ends the lookup by returning true.
   */
  lookupValue(key: Uint8Array, onAnswer: (from: Contact, answer: FindValueResult) => boolean, options: { signal?: AbortSignal } = {}): Promise<LookupResult> {
    return this.runLookup(key, (to, signal) => this.options.network.findValue(to, key, signal), { ...options, onAnswer });
  }

  private async runLookup<A extends QueryAnswer>(
    target: Uint8Array,
    query: (to: Contact, signal: AbortSignal) => Promise<A>,
    options: { signal?: AbortSignal; seeds?: Contact[]; onAnswer?: (from: Contact, answer: A) => boolean },
  ): Promise<LookupResult> {
    if (!isId(target)) throw invalidArgument('target', 'must be 32 bytes');
    this.stats.lookups++;
    this.table.touch(target);
    // Linked through a shared listener: many lookups on one caller signal add one listener to it, not one each.
    const linked = linkedController(options.signal);
    const own = linked.controller;
    this.inflight.add(own);
    const network = this.options.network;
    const seeds = [...this.closestContacts(target, undefined, this.k), ...(options.seeds ?? [])];
    try {
      const result = await iterativeLookup<A>({
        ...this.options.lookup,
        k: this.k,
        target,
        seeds,
        query,
        positions: this.positions,
        clock: this.options.clock,
        self: this.id,
        signal: own.signal,
        defaultRttMs: this.options.lookup?.defaultRttMs ?? (this.typicalRtt !== undefined ? this.typicalRtt * 1.5 : undefined),
        ...(network.rtt ? { rtt: (to: Contact) => network.rtt!(to) } : {}),
        ...(options.onAnswer ? { onAnswer: options.onAnswer } : {}),
        onFailure: (to) => this.table.recordFailure(to.id, this.positions.of(to.id)),
        onRtt: (_to, ms) => {
          this.typicalRtt = this.typicalRtt === undefined ? ms : 0.9 * this.typicalRtt + 0.1 * ms;
        },
      });
      this.stats.queries += result.queries;
      this.stats.malformedContacts += result.malformed;
      return result;
    } finally {
      linked.dispose();
      this.inflight.delete(own);
    }
  }

  /** Looks up a random position inside bucket `index` (keeps far buckets populated). */
  refreshBucket(index: number, signal?: AbortSignal): Promise<LookupResult> {
    const target = randomPositionInBucket(this.position, index, this.options.suite.randomBytes(ID_LENGTH));
    return this.lookup(target, signal ? { signal } : {});
  }

  /**
   * A deadline signal for one outgoing RPC (or, with `ms`, one phase of several), aborted
   * by `parent` and by {@link DhtCore.stop} as well.
   */
  rpcDeadline(parent?: AbortSignal, ms = this.options.rpcTimeoutMs ?? 2000): Deadline {
    const limit = deadline(this.options.clock, ms, parent);
    this.inflight.add(limit);
    return {
      signal: limit.signal,
      abort: () => limit.abort(),
      dispose: () => {
        limit.dispose();
        this.inflight.delete(limit);
      },
    };
  }

  private schedule(): void {
    if (!this.running) return;
    this.tick = this.options.clock.setTimeout(() => {
      this.tick = undefined;
      this.maintain();
      this.schedule();
    }, this.options.maintenanceMs ?? 60_000);
  }

  /** One maintenance tick: expiry sweep, stale-bucket refresh, then the registered hooks. */
  private maintain(): void {
    this.store.sweep();
    const stale = this.table.staleBuckets(this.options.bucketRefreshMs ?? 60 * 60_000);
    // The sparse buckets near us hold the few nodes closest to us: one lookup of our own
    // position refreshes them together (each on its own cost ~20 queries for the same answers).
    const near = this.table.neighbourhoodStart(this.k);
    if (stale.length > 0 && stale[stale.length - 1] >= near) {
      for (const index of stale) if (index >= near) this.table.touchBucket(index);
      this.lookup(this.position).catch(() => undefined);
    }
    // The rest: at most a few per tick, so that a node that slept does not burst dozens of lookups.
    for (const index of stale.filter((i) => i < near).slice(0, 4)) this.refreshBucket(index).catch(() => undefined);
    for (const hook of this.maintenanceHooks) {
      try {
        hook();
      } catch {
        // A hook's failure must not stop the timer chain.
      }
    }
  }
}
