/**
 * Lookups of a service's providers: one DHT `getRecords` (signatures, expiry and
 * seq ordering checked by the DHT), decoded into providers, withdrawals and expired or
 * undecodable records dropped, deduplicated by node ID. Answers are cached for a few
 * seconds; a cached answer is filtered again at use (expiry, and withdrawals this node
 * holds itself), and concurrent lookups of one service share one DHT query.
 */
import { abortError, invalidArgument, throwIfAborted } from '../errors.js';
import { authorKey } from '../kademlia/record.js';
import type { Clock } from '../util/clock.js';
import type { SignedRecord } from '../kademlia/types.js';
import { providerFromRecord, type Provider } from './provider-record.js';
import type { DiscoveryDht } from './types.js';

/** Options of a lookup. */
export interface LookupOptions {
  /** Return at most this many providers (lowest measured RTT first, then at random). */
  limit?: number;
  signal?: AbortSignal;
  /** Bypass the cache. Default false. */
  fresh?: boolean;
}

/**
 * Turns a verified record found under a key into the provider value it carries, or null to
 * skip it (consortium mode: opens a restricted record; see src/consortium/restricted-record.ts).
 */
export type RecordOpener = (record: SignedRecord) => Uint8Array | null;

/** Configuration of a {@link ProviderLookup}. */
export interface ProviderLookupOptions {
  dht: DiscoveryDht;
  clock: Clock;
  wallClock: () => number;
  random: () => number;
  /** Measured RTT to a node, ms. */
  rtt?: ((nodeId: Uint8Array) => number | undefined) | undefined;
  /** How long an answer is reused, ms. */
  cacheMs: number;
  /** Holders whose answers are merged before a lookup ends (more = more robust to a holder that missed a STORE). */
  quorum: number;
  /** Most services cached. */
  maxCached?: number;
}

interface CacheEntry {
  at: number;
  key: Uint8Array;
  providers: Provider[];
}

/** Provider lookups with a short cache. */
export class ProviderLookup {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly pending = new Map<string, Promise<Provider[]>>();

  constructor(private readonly options: ProviderLookupOptions) {}

  /** Live providers of the service with DHT key `key` (hex `keyHex`). */
  async lookup(key: Uint8Array, keyHex: string, options: LookupOptions = {}, open?: RecordOpener): Promise<Provider[]> {
    const limit = options.limit;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw invalidArgument('limit', 'must be an integer >= 1');
    throwIfAborted(options.signal);
    let providers: Provider[] | undefined;
    if (!options.fresh) providers = this.fromCache(keyHex);
    if (providers === undefined) providers = await this.query(key, keyHex, options.signal, open);
    return this.present(providers, limit);
  }

  /** Forgets the cached answer of one service (after a withdrawal this node made or saw). */
  invalidate(keyHex: string): void {
    this.cache.delete(keyHex);
  }

  /** Forgets every cached answer. */
  clear(): void {
    this.cache.clear();
  }

  private fromCache(keyHex: string): Provider[] | undefined {
    const entry = this.cache.get(keyHex);
    if (entry === undefined) return undefined;
    if (this.options.clock.now() - entry.at > this.options.cacheMs) {
      this.cache.delete(keyHex);
      return undefined;
    }
    const now = this.options.wallClock();
    // Withdrawals stored on this very node supersede what the cache remembers.
    const withdrawn = new Map<string, number>();
    for (const record of this.options.dht.store?.get(entry.key) ?? []) if (record.withdrawn) withdrawn.set(authorKey(record), record.seq);
    const live = entry.providers.filter((p) => p.expiresAt > now && !((withdrawn.get(p.id) ?? -1) > p.seq));
    if (live.length !== entry.providers.length) entry.providers = live;
    return live;
  }

  private query(key: Uint8Array, keyHex: string, signal?: AbortSignal, open?: RecordOpener): Promise<Provider[]> {
    let shared = this.pending.get(keyHex);
    if (shared === undefined) {
      // Shared by every concurrent caller, so it runs without any one caller's signal; DHT lookups always end on their own.
      shared = this.runQuery(key, keyHex, open).finally(() => this.pending.delete(keyHex));
      this.pending.set(keyHex, shared);
    }
    if (signal === undefined) return shared;
    return new Promise<Provider[]>((resolve, reject) => {
      const onAbort = () => reject(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      shared.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private async runQuery(key: Uint8Array, keyHex: string, open?: RecordOpener): Promise<Provider[]> {
    const records = await this.options.dht.getRecords(key, { quorum: this.options.quorum });
    const now = this.options.wallClock();
    const byId = new Map<string, Provider>();
    for (const found of records) {
      let record = found;
      if (open !== undefined && !found.withdrawn) {
        const value = open(found);
        if (value === null) continue;
        // The provider carries the opened value: watchers compare contents, not ciphertexts.
        record = { ...found, value };
      }
      const provider = providerFromRecord(record, now);
      if (provider === null) continue;
      const known = byId.get(provider.id);
      if (known === undefined || known.seq < provider.seq) byId.set(provider.id, provider);
    }
    const providers = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.cache.delete(keyHex);
    this.cache.set(keyHex, { at: this.options.clock.now(), key, providers });
    if (this.cache.size > (this.options.maxCached ?? 256)) this.cache.delete(this.cache.keys().next().value as string);
    return providers;
  }

  /** Copies with the current RTT attached, cut to `limit` (nearest first, then at random). */
  private present(providers: Provider[], limit: number | undefined): Provider[] {
    const rtt = this.options.rtt;
    let out = providers.map((p) => {
      const ms = rtt?.(p.nodeId);
      return ms === undefined ? { ...p } : { ...p, rttMs: ms };
    });
    if (limit !== undefined && out.length > limit) {
      const random = this.options.random;
      const keyed = out.map((p) => ({ p, order: p.rttMs ?? Number.POSITIVE_INFINITY, tie: random() }));
      keyed.sort((a, b) => a.order - b.order || a.tie - b.tie);
      out = keyed.slice(0, limit).map((entry) => entry.p);
    }
    return out;
  }
}
