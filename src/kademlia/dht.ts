/**
 * Values on the DHT: `put` (immutable or signed mutable), `putRecord` (any signed record,
 * e.g. discovery's provider records), `get` (the highest valid seq wins) and `getRecords`
 * (the whole 1-to-many set), plus author republish and holder refresh on the maintenance
 * tick. Storing goes to the k closest nodes, each with the write token it issued during
 * the lookup.
 */
import type { KeyPair } from '../crypto/types.js';
import { MccError, invalidArgument, throwIfAborted } from '../errors.js';
import { bytesToHex } from '../util/bytes.js';
import { DhtCore } from './dht-core.js';
import type { DhtOptions } from './dht-options.js';
import { RecordHandoff } from './handoff.js';
import { RecordCollector } from './record-collector.js';
import { Slots, fetchRemainingPages, type PagedHolder, type PagingParams } from './paging.js';
import { compareDistance, isId, mutableKey } from './keyspace.js';
import { checkRecord, createImmutableRecord, isBoundMutable, isImmutable, signRecord, supersedes } from './record.js';
import type { Contact, FindValueResult, SignedRecord } from './types.js';
import { MAX_VALUE_SIZE } from './types.js';
import { recordFitsDatagram } from './wire-size.js';

/** Options of {@link MccDht.put}. Without `keyPair` the value is immutable (key = hash of value). */
export interface PutOptions {
  /** Author key pair: makes the value mutable, keyed by hash of public key and salt. */
  keyPair?: KeyPair;
  /** Salt of a mutable value (at most 64 bytes): one key pair can own many keys. Default: none. */
  salt?: Uint8Array;
  /**
   * Sequence number of a mutable value; the highest seq wins on read. Default: the wall
   * clock in ms, or one more than our last put of this key in this process if that is
   * higher, so a put after a restart still supersedes what the previous process stored.
   * A put whose seq holders refuse as stale (they hold a seq at least as high for this
   * key) rejects with `ERR_PEER` (`details.reason` = 'stale').
   */
  seq?: number;
  /** Lifetime, ms. Default: the DHT's default record lifetime (1 h on a node). */
  ttlMs?: number;
  /** Republish before expiry while the node runs. Default true. */
  republish?: boolean;
  /** Aborts the put (it rejects with `ERR_ABORTED`). */
  signal?: AbortSignal;
}

/** Outcome of a put. */
export interface PutResult {
  /** The 32-byte key the value is stored under (pass it to `get`). */
  key: Uint8Array;
  /** The signed record that was stored. */
  record: SignedRecord;
  /** Nodes that accepted the record (ourselves included when we are among the k closest). */
  stored: number;
}

/** Outcome of a get: the winning value. */
export interface GetResult {
  /** The 32-byte key asked for. */
  key: Uint8Array;
  /** The value (the record's payload). */
  value: Uint8Array;
  /** The verified record the value came from (author, seq, expiry). */
  record: SignedRecord;
}

/** Options of reads. */
export interface GetOptions {
  /** Aborts the read (it rejects with `ERR_ABORTED`). */
  signal?: AbortSignal;
  /** Stop once this many holders answered with valid records (immutable values stop at the first). Default 3. */
  quorum?: number;
}

/** Value-related options on top of {@link DhtOptions}. */
export interface DhtValueOptions extends DhtOptions {
  /** Default record lifetime, ms. Default 1 h. */
  defaultTtlMs?: number;
  /** A holder re-stores a record to the current k closest when nobody re-stored it for this long, ms. Default 30 min. */
  holderRefreshMs?: number;
  /** Hand held records to nodes that join near their keys (see handoff.ts). Default true. */
  handoff?: boolean;
  /** Keys refreshed by a holder per maintenance tick. Default 8. */
  holderRefreshPerTick?: number;
  /** Fetching the rest of large record sets after a read's lookup (see paging.ts). */
  paging?: PagingParams & {
    /** Page requests in flight across all reads of this node. Default 48. */
    maxInFlight?: number;
  };
}

interface Published {
  record: SignedRecord;
  keyPair: KeyPair | undefined;
  ttlMs: number;
  republishAt: number;
}

/** The DHT of one node: {@link DhtCore} plus values. This is what `node.dht` exposes. */
export class Dht extends DhtCore {
  private readonly published = new Map<string, Published>();
  private readonly defaultTtlMs: number;
  private readonly pageSlots: Slots;

  constructor(readonly valueOptions: DhtValueOptions) {
    super(valueOptions);
    this.defaultTtlMs = valueOptions.defaultTtlMs ?? 3600_000;
    this.pageSlots = new Slots(Math.max(1, valueOptions.paging?.maxInFlight ?? 48));
    this.maintenanceHooks.push(
      () => this.republishDue(),
      () => this.refreshHeld(),
    );
    if (valueOptions.handoff !== false) {
      const handoff = new RecordHandoff({
        k: this.k,
        position: this.position,
        store: this.store,
        network: this.options.network,
        running: () => this.started,
        closest: (target, count, exclude) => this.table.closest(target, count, exclude),
        rpcDeadline: () => this.rpcDeadline(),
        handedOff: (records) => (this.stats.recordsHandedOff += records),
      });
      this.contactAddedHooks.push((contact, position) => handoff.offer(contact, position));
    }
  }

  /**
   * Stores `value` (at most 1000 bytes): immutable by default, mutable and signed with `keyPair`.
   * @throws MccError `ERR_INVALID_ARGUMENT` on bad arguments; `ERR_UNREACHABLE` when no node
   * accepted the record; `ERR_PEER` with `details.reason` 'stale' when at least as many
   * holders refused it as stale (they hold the same or a higher seq) as accepted it.
   */
  async put(value: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    if (!(value instanceof Uint8Array) || value.length > MAX_VALUE_SIZE)
      throw invalidArgument('value', `must be a Uint8Array of at most ${MAX_VALUE_SIZE} bytes`);
    const ttlMs = this.checkTtl(options.ttlMs);
    const expiresAt = Math.floor(this.wallNow() + ttlMs);
    let record: SignedRecord;
    if (options.keyPair === undefined) {
      record = createImmutableRecord(this.options.suite, value, expiresAt);
    } else {
      const key = mutableKey(this.options.suite, options.keyPair.publicKey, options.salt);
      const previous = this.published.get(publishedId(key, options.keyPair.publicKey));
      // Wall-clock ms keep the default monotonic across restarts (as discovery's provider seq does).
      const seq = options.seq ?? Math.max(previous ? previous.record.seq + 1 : 0, Math.floor(this.wallNow()));
      record = signRecord(this.options.suite, options.keyPair, { key, seq, expiresAt, value, ...(options.salt ? { salt: options.salt } : {}) });
    }
    if (!recordFitsDatagram(record)) {
      throw invalidArgument(
        'value',
        `too large for one datagram as a ${options.keyPair ? 'signed' : 'immutable'} record (${value.length} bytes; immutable values may have 1000, signed ones about 900 less the salt)`,
      );
    }
    return this.publish(record, options.keyPair, ttlMs, options);
  }

  /**
   * Publishes a record signed elsewhere (discovery's provider records, withdrawals). With
   * `keyPair` it is re-signed with a fresh expiry on republish; without, it is republished
   * as is until it expires.
   */
  async putRecord(record: SignedRecord, options: { keyPair?: KeyPair; republish?: boolean; signal?: AbortSignal } = {}): Promise<PutResult> {
    const now = this.wallNow();
    let problem = checkRecord(this.options.suite, record, record?.key, now, this.store.maxTtlMs);
    // Holders refuse open-set records (provider records) that expire further ahead than they need.
    if (problem === null && record.expiresAt > now + this.store.maxTtlFor(record)) problem = 'ttl';
    if (problem !== null) throw invalidArgument('record', `not a valid record (${problem})`);
    if (!recordFitsDatagram(record)) throw invalidArgument('record', 'too large to travel in one datagram');
    return this.publish(record, options.keyPair, Math.max(1, record.expiresAt - this.wallNow()), options);
  }

  /** Stops republishing what we published under `key` (by any of our authors). The records live until expiry. */
  unpublish(key: Uint8Array): void {
    const prefix = bytesToHex(key);
    for (const id of [...this.published.keys()]) if (id.startsWith(prefix)) this.published.delete(id);
  }

  /**
   * Reads `key`: an immutable value (verified against its key) or the mutable value with the
   * highest valid seq from the author the key names. Null when nothing valid is found or the
   * latest record is a withdrawal.
   */
  async get(key: Uint8Array, options: GetOptions = {}): Promise<GetResult | null> {
    const records = await this.collect(key, options, true);
    let best: SignedRecord | undefined;
    for (const record of records) {
      if (isImmutable(record)) return { key, value: record.value, record };
      if (!isBoundMutable(this.options.suite, record)) continue;
      if (best === undefined || supersedes(record, best)) best = record;
    }
    if (best === undefined || best.withdrawn) return null;
    return { key, value: best.value, record: best };
  }

  /** Every author's latest valid record under `key` (1-to-many), withdrawals included so callers can drop them. */
  getRecords(key: Uint8Array, options: GetOptions = {}): Promise<SignedRecord[]> {
    return this.collect(key, options, false);
  }

  private async collect(key: Uint8Array, options: GetOptions, stopAtImmutable: boolean): Promise<SignedRecord[]> {
    if (!isId(key)) throw invalidArgument('key', 'must be 32 bytes');
    throwIfAborted(options.signal);
    const quorum = options.quorum ?? 3;
    const read = new RecordCollector({
      suite: this.options.suite,
      key,
      singleValue: stopAtImmutable,
      maxPerKey: this.store.maxPerKeyLimit,
      maxTtlMs: this.store.maxTtlMs,
      wallNow: () => this.wallNow(),
    });
    const held = this.store.get(key);
    if (read.merge(held)) read.countHolder(held.length);
    const paged: PagedHolder[] = [];
    if (!read.done && read.counted < quorum) {
      await this.lookupValue(
        key,
        (from: Contact, answer: FindValueResult) => {
          const records = Array.isArray(answer.records) ? answer.records : [];
          const total = answer.total;
          const pagedTotal =
            typeof total === 'number' && Number.isSafeInteger(total) && total > records.length ? Math.min(total, this.store.maxPerKeyLimit) : 0;
          if (pagedTotal > 0) paged.push({ contact: from, total: pagedTotal, have: records.length, sample: records.slice(0, 8) });
          if (records.length > 0 && read.merge(records)) read.countHolder(Math.max(records.length, pagedTotal));
          return read.done || read.counted >= quorum;
        },
        options.signal ? { signal: options.signal } : {},
      );
    }
    if (paged.length > 0 && !read.done) await this.fetchPages(key, paged, quorum, (records) => read.merge(records), options.signal);
    throwIfAborted(options.signal);
    return read.records();
  }

  /**
   * After the lookup: the rest of the record sets of the best holders (largest sets first,
   * up to `quorum` of them), all in parallel under one phase deadline.
   */
  private async fetchPages(
    key: Uint8Array,
    paged: PagedHolder[],
    quorum: number,
    merge: (records: SignedRecord[]) => boolean,
    signal?: AbortSignal,
  ): Promise<void> {
    const best = [...paged].sort((a, b) => b.total - a.total).slice(0, Math.max(1, quorum));
    const params = this.valueOptions.paging ?? {};
    const phase = this.rpcDeadline(signal, params.timeoutMs ?? 15_000);
    try {
      await Promise.all(
        best.map((holder) =>
          fetchRemainingPages(holder, {
            network: this.options.network,
            clock: this.options.clock,
            key,
            maxRecords: this.store.maxPerKeyLimit,
            onRecords: (records) => void merge(records),
            signal: phase.signal,
            slots: this.pageSlots,
            params: { pageTimeoutMs: this.options.rpcTimeoutMs ?? 2_000, ...params },
          }),
        ),
      );
    } finally {
      phase.dispose();
    }
  }

  private checkTtl(ttlMs: number | undefined): number {
    const ttl = ttlMs ?? this.defaultTtlMs;
    if (!Number.isFinite(ttl) || ttl <= 0 || ttl > this.store.maxTtlMs) throw invalidArgument('ttlMs', `must be in (0, ${this.store.maxTtlMs}] ms`);
    return ttl;
  }

  /** Lookup of the k closest, STORE to each with its token, and a local copy when we are among them. */
  private async publish(
    record: SignedRecord,
    keyPair: KeyPair | undefined,
    ttlMs: number,
    options: { republish?: boolean; signal?: AbortSignal },
  ): Promise<PutResult> {
    throwIfAborted(options.signal);
    if (options.republish !== false) {
      const id = publishedId(record.key, record.author);
      // Withdrawals are kept alive only until the record they replace would have expired.
      this.published.set(id, { record, keyPair: record.withdrawn ? undefined : keyPair, ttlMs, republishAt: this.wallNow() + ttlMs / 2 });
    }
    const outcome = await this.storeCounted(record.key, [record], options.signal);
    // Holders that hold a seq at least as high will win every read: resolving would lose the
    // value silently. A lone holder's refusal is outvoted (it may lie) by more acceptances.
    if (outcome.stale > 0 && outcome.stale >= outcome.remote) {
      const id = publishedId(record.key, record.author);
      if (this.published.get(id)?.record === record) this.published.delete(id);
      throw new MccError('ERR_PEER', `${outcome.stale} holder(s) refused the record as stale: they hold seq ${record.seq} or higher for this key`, {
        details: { reason: 'stale', seq: record.seq, stale: outcome.stale, stored: outcome.stored },
      });
    }
    if (outcome.stored === 0) throw new MccError('ERR_UNREACHABLE', 'no node accepted the record');
    return { key: record.key, record, stored: outcome.stored };
  }

  /** Stores `records` (all under `key`) on the k closest nodes; returns how many nodes accepted them. */
  async storeToClosest(key: Uint8Array, records: SignedRecord[], signal?: AbortSignal): Promise<number> {
    return (await this.storeCounted(key, records, signal)).stored;
  }

  /** {@link Dht.storeToClosest}, also counting remote acceptances and refusals as stale. */
  private async storeCounted(key: Uint8Array, records: SignedRecord[], signal?: AbortSignal): Promise<{ stored: number; remote: number; stale: number }> {
    const result = await this.lookup(key, signal ? { signal } : {});
    const hits = result.closest.filter((hit) => hit.token !== undefined);
    let remote = 0;
    let stale = 0;
    const network = this.options.network;
    await Promise.all(
      hits.map(async (hit) => {
        let accepted = 0;
        let refusedStale = false;
        // One deadline per STORE: a holder refresh sends a whole set (up to 1,000 records) in turn.
        for (const record of records) {
          const limit = this.rpcDeadline(signal);
          try {
            await network.store(hit.contact, key, record, hit.token!, limit.signal);
            accepted++;
          } catch (error) {
            const reason = refusalReason(error);
            // A refused record (stale, limit) does not stop the rest; silence or a failure does,
            // and is counted by its absence (a STORE lost here is repaired by republish).
            if (reason === undefined) break;
            if (reason === 'stale') refusedStale = true;
          } finally {
            limit.dispose();
          }
        }
        if (accepted === records.length) remote++;
        else if (refusedStale) stale++;
      }),
    );
    let stored = remote;
    const kth = hits[this.k - 1];
    if (!this.clientMode && (kth === undefined || compareDistance(this.position, kth.position, key) < 0)) {
      let ok = true;
      for (const record of records) ok = this.store.put(key, record, this.idHex).ok && ok;
      if (ok) stored++;
    }
    return { stored, remote, stale };
  }

  /** Author republish: re-sign (or re-date, for immutable values) what is due and store it again. */
  private republishDue(): void {
    const now = this.wallNow();
    for (const [id, entry] of this.published) {
      if (entry.republishAt > now) continue;
      let record = entry.record;
      if (isImmutable(record)) {
        record = createImmutableRecord(this.options.suite, record.value, Math.floor(now + entry.ttlMs));
      } else if (entry.keyPair !== undefined) {
        const { key, seq, value, salt } = record;
        record = signRecord(this.options.suite, entry.keyPair, { key, seq, value, expiresAt: Math.floor(now + entry.ttlMs), ...(salt ? { salt } : {}) });
      } else if (record.expiresAt <= now) {
        this.published.delete(id);
        continue;
      }
      entry.record = record;
      entry.republishAt = now + entry.ttlMs / 2;
      this.storeToClosest(record.key, [record]).catch(() => undefined);
    }
  }

  /** Holder refresh: records nobody re-stored for a while go again to the current k closest of their key. */
  private refreshHeld(): void {
    const now = this.wallNow();
    const due = now - (this.valueOptions.holderRefreshMs ?? 30 * 60_000);
    const byKey = new Map<string, { key: Uint8Array; records: SignedRecord[] }>();
    const maxKeys = this.valueOptions.holderRefreshPerTick ?? 8;
    for (const held of this.store.held()) {
      if (held.storedAt > due || held.record.expiresAt <= now) continue;
      const keyHex = bytesToHex(held.record.key);
      let group = byKey.get(keyHex);
      if (group === undefined) {
        if (byKey.size >= maxKeys) continue;
        group = { key: held.record.key, records: [] };
        byKey.set(keyHex, group);
      }
      group.records.push(held.record);
      held.storedAt = now;
    }
    for (const group of byKey.values()) this.storeToClosest(group.key, group.records).catch(() => undefined);
  }
}

/**
 * Why a STORE was refused ('stale' when the holder has the same or a newer record), or
 * undefined when it failed otherwise (timeout, abort, transport). The wire network rejects
 * with an MccError carrying `details.reason`; the in-memory one with an Error whose message
 * ends in the reason.
 */
function refusalReason(error: unknown): string | undefined {
  if (error instanceof MccError) {
    const reason = error.details?.['reason'];
    return typeof reason === 'string' ? reason : error.code === 'ERR_PEER' && /^store refused/.test(error.message) ? 'unknown' : undefined;
  }
  return error instanceof Error ? /^store refused: (\w+)$/.exec(error.message)?.[1] : undefined;
}

function publishedId(key: Uint8Array, author: Uint8Array): string {
  return bytesToHex(key) + bytesToHex(author);
}
