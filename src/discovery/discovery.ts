/**
 * Service discovery, 1-to-many, on the Kademlia DHT. Many providers register one service
 * name; each publishes its own signed provider record under the service's key, and any
 * node looks up the whole set. `MccNode` composes one {@link Discovery} and exposes
 * `register`, `unregister`, `lookup` and `watch` through it.
 *
 * Default TTL: 2 minutes. A provider that crashes cannot withdraw, so its record lives
 * until expiry: 2 minutes bounds how long clients may be sent to a dead provider, while
 * republishing at 50-70% of it (every 60-84 s, one DHT store round) stays cheap.
 */
import type { CryptoSuite, KeyPair } from '../crypto/types.js';
import { MccError, abortError, invalidArgument } from '../errors.js';
import { bytesToHex } from '../util/bytes.js';
import type { Clock } from '../util/clock.js';
import { ProviderLookup, type LookupOptions, type RecordOpener } from './provider-lookup.js';
import type { Provider, ServiceMetadata } from './provider-record.js';
import { Registration, type RecordCopy } from './registration.js';
import { serviceKey } from './service-name.js';
import type { DiscoveryDht, DiscoveryLogger, RegistrationContext, SelfInfo } from './types.js';
import { watchProviders, DEFAULT_WATCH_INTERVAL_MS, MIN_WATCH_INTERVAL_MS, type WatchEvent, type WatchOptions } from './watch.js';
import { LiveWatch, type LiveWatchNetwork, type LiveWatchStats } from './watch-live.js';

/** Default record TTL, ms (see the module comment for why 2 minutes). */
export const DEFAULT_PROVIDER_TTL_MS = 120_000;
/** Shortest TTL accepted, ms: below it republishing would dominate the traffic. */
export const MIN_PROVIDER_TTL_MS = 10_000;
/** Longest TTL accepted, ms. */
export const MAX_PROVIDER_TTL_MS = 24 * 3600_000;
/** Default lookup cache lifetime, ms. */
export const DEFAULT_LOOKUP_CACHE_MS = 2_000;

/** Construction options of {@link Discovery}. */
export interface DiscoveryOptions {
  dht: DiscoveryDht;
  suite: CryptoSuite;
  /** The node's identity: provider records are signed with it (author = node ID). */
  keyPair: KeyPair;
  clock: Clock;
  /** Wall-clock ms since the epoch (record expiry and seq). Default `Date.now`. */
  wallClock?: () => number;
  /** Where this node listens and which relays it keeps, read at every (re)publish. */
  selfInfo: () => SelfInfo;
  /** Measured RTT to a node, ms (the session layer's estimate). */
  rtt?: (nodeId: Uint8Array) => number | undefined;
  /** Default TTL of registrations, ms. Default {@link DEFAULT_PROVIDER_TTL_MS}. */
  defaultTtlMs?: number;
  /** Lookup cache lifetime, ms (0 disables it). Default {@link DEFAULT_LOOKUP_CACHE_MS}. */
  cacheMs?: number;
  /** Holders whose answers a lookup merges. Default 3. */
  quorum?: number;
  /** Random source in [0, 1) for jitter and tie-breaks. Default Math.random. */
  random?: () => number;
  /**
   * Rejoins the DHT (e.g. bootstrap again from the configured seeds). Called before each
   * retry of a publish that reached too few nodes: after an outage the routing table may
   * have emptied, and republishing alone would then only ever reach this node.
   */
  rejoin?: () => Promise<unknown>;
  logger?: DiscoveryLogger;
  /** Subscriptions at holders for live watches (the node's RPC, watch-rpc.ts). Without it every watch polls. */
  liveWatch?: LiveWatchNetwork;
}

/** Options of {@link Discovery.register}. */
export interface RegisterOptions {
  /** Small JSON metadata (at most 512 bytes encoded). */
  metadata?: ServiceMetadata;
  /** Record lifetime, ms, in [10 s, 24 h]. Default 2 min. */
  ttl?: number;
  /** Aborting it cancels the first publish (register rejects) or, later, unregisters. */
  signal?: AbortSignal;
  /** Publish these sealed copies instead of one open record under the service key (consortium mode's restricted services). */
  copies?: RecordCopy[];
}

/** Options of {@link Discovery.stop}. */
export interface DiscoveryStopOptions {
  /** Publish withdrawals for every registration. Default true; false lets records expire, as after a crash. */
  withdraw?: boolean;
  signal?: AbortSignal;
}

/** Register, unregister, lookup and watch services on the DHT. */
export class Discovery {
  private readonly registrations = new Map<string, Registration>();
  private readonly detachers = new Map<Registration, () => void>();
  private readonly lookups: ProviderLookup;
  private readonly context: RegistrationContext;
  private readonly stopped = new AbortController();
  private readonly defaultTtlMs: number;
  private lastSeq = 0;
  private readonly liveWatches = new Set<LiveWatch>();

  constructor(private readonly options: DiscoveryOptions) {
    const wallClock = options.wallClock ?? (() => Date.now());
    const random = options.random ?? Math.random;
    this.defaultTtlMs = checkTtl(options.defaultTtlMs ?? DEFAULT_PROVIDER_TTL_MS, 'defaultTtlMs');
    this.lookups = new ProviderLookup({
      dht: options.dht,
      clock: options.clock,
      wallClock,
      random,
      rtt: options.rtt,
      cacheMs: options.cacheMs ?? DEFAULT_LOOKUP_CACHE_MS,
      quorum: options.quorum ?? 3,
    });
    this.context = {
      dht: options.dht,
      suite: options.suite,
      keyPair: options.keyPair,
      clock: options.clock,
      wallClock,
      random,
      selfInfo: options.selfInfo,
      logger: options.logger,
      rejoin: options.rejoin,
      // Wall-clock milliseconds make seq monotonic across restarts: a restarted provider's records supersede its old ones.
      nextSeq: () => (this.lastSeq = Math.max(this.lastSeq + 1, Math.floor(wallClock()))),
      stopped: this.stopped.signal,
      onClosed: (name, keyHex) => {
        const closed = this.registrations.get(name);
        if (closed?.closed) {
          this.registrations.delete(name);
          this.detachers.get(closed)?.();
          this.detachers.delete(closed);
        }
        this.lookups.invalidate(keyHex);
      },
    };
  }

  /**
   * Registers this node as a provider of `name` and publishes its record. Resolves after
   * the first publish, also when it reached no node (it is then retried with back-off in
   * the background: see `Registration.state`).
   * @throws MccError `ERR_INVALID_ARGUMENT` (name, metadata, ttl; or `name` already
   *   registered here), `ERR_STOPPED` after {@link Discovery.stop}, `ERR_ABORTED`.
   */
  async register(name: string, options: RegisterOptions = {}): Promise<Registration> {
    if (this.stopped.signal.aborted) throw new MccError('ERR_STOPPED', 'discovery stopped');
    const key = serviceKey(this.options.suite, name);
    if (this.registrations.has(name)) throw invalidArgument('name', `"${name}" is already registered on this node`);
    const ttl = checkTtl(options.ttl ?? this.defaultTtlMs, 'ttl');
    const signal = options.signal;
    if (signal?.aborted) throw abortError(signal);
    const registration = new Registration(name, key, options.metadata, ttl, this.context, options.copies);
    this.registrations.set(name, registration);
    try {
      await registration.start(signal);
    } catch (error) {
      registration.unregister().catch(() => undefined);
      throw error;
    }
    if (signal) {
      const onAbort = (): void => void registration.unregister().catch(() => undefined);
      signal.addEventListener('abort', onAbort, { once: true });
      // Removed when the registration ends, so a long-lived signal does not collect listeners.
      this.detachers.set(registration, () => signal.removeEventListener('abort', onAbort));
    }
    return registration;
  }

  /** Unregisters `name` (publishes a signed withdrawal). Resolves false when it was not registered. */
  async unregister(name: string): Promise<boolean> {
    const registration = this.registrations.get(name);
    if (registration === undefined) return false;
    await registration.unregister();
    return true;
  }

  /** The registration of `name` on this node, if any. */
  registration(name: string): Registration | undefined {
    return this.registrations.get(name);
  }

  /** Names this node currently provides. */
  registeredNames(): string[] {
    return [...this.registrations.keys()];
  }

  /**
   * All live providers of `name`, deduplicated by node ID, with metadata and measured RTT
   * where known. Signatures, expiry and withdrawals are checked. Answers are cached for
   * `cacheMs` (pass `fresh: true` to bypass).
   * @throws MccError `ERR_INVALID_ARGUMENT` (name, limit), `ERR_ABORTED`, `ERR_STOPPED`.
   */
  async lookup(name: string, options: LookupOptions = {}): Promise<Provider[]> {
    if (this.stopped.signal.aborted) throw new MccError('ERR_STOPPED', 'discovery stopped');
    const key = serviceKey(this.options.suite, name);
    return this.lookups.lookup(key, bytesToHex(key), options);
  }

  /**
   * Live providers whose records are stored under `key` and open with `open` (consortium
   * mode: a restricted channel, src/consortium/restricted-record.ts). Cached like lookups.
   * @throws MccError `ERR_ABORTED`, `ERR_STOPPED`.
   */
  async lookupChannel(key: Uint8Array, open: RecordOpener, options: LookupOptions = {}): Promise<Provider[]> {
    if (this.stopped.signal.aborted) throw new MccError('ERR_STOPPED', 'discovery stopped');
    return this.lookups.lookup(key, bytesToHex(key), options, open);
  }

  /**
   * Changes in the providers of `name` as they happen: `added` for each current provider
   * first, then `added`/`updated`/`removed` in order. Live by default: subscribes at the
   * nodes holding the service's records, which push changes (see watch-live.ts); polls a
   * fresh lookup every `intervalMs` (default 5 s) when no holder accepts, when `live` is
   * false, or when this Discovery has no live-watch network. Ends cleanly when `signal`
   * aborts or discovery stops.
   */
  watch(name: string, options: WatchOptions = {}): AsyncIterable<WatchEvent> {
    const key = serviceKey(this.options.suite, name);
    const keyHex = bytesToHex(key);
    const intervalMs = options.intervalMs;
    if (intervalMs !== undefined && (!Number.isFinite(intervalMs) || intervalMs < MIN_WATCH_INTERVAL_MS)) {
      throw invalidArgument('intervalMs', `must be a number >= ${MIN_WATCH_INTERVAL_MS}`);
    }
    const lookup = (signal: AbortSignal | undefined) => this.lookups.lookup(key, keyHex, { fresh: true, ...(signal ? { signal } : {}) });
    const network = this.options.liveWatch;
    if (options.live === false || network === undefined) {
      return watchProviders(lookup, this.options.clock, { ...options, stopped: this.stopped.signal });
    }
    const signal = options.signal ? AbortSignal.any([options.signal, this.stopped.signal]) : this.stopped.signal;
    const live = new LiveWatch({
      key,
      suite: this.options.suite,
      clock: this.options.clock,
      wallClock: this.context.wallClock,
      random: this.context.random,
      network,
      lookup,
      intervalMs: intervalMs ?? DEFAULT_WATCH_INTERVAL_MS,
      signal,
      // A pushed change makes this node's cached lookup answer of the name stale.
      changed: () => this.lookups.invalidate(keyHex),
      logger: this.options.logger,
    });
    const watches = this.liveWatches;
    return {
      async *[Symbol.asyncIterator]() {
        watches.add(live);
        try {
          yield* live.events();
        } finally {
          watches.delete(live);
        }
      },
    };
  }

  /** Counters of the live watches running now (one entry per watch). */
  liveWatchStats(): LiveWatchStats[] {
    return [...this.liveWatches].map((watch) => ({ ...watch.stats }));
  }

  /** Republishes every registration now (the node calls it when its addresses, relays or network changed). */
  async refresh(): Promise<void> {
    await Promise.all([...this.registrations.values()].map((r) => r.refresh().catch(() => undefined)));
  }

  /**
   * Ends every registration (withdrawing them unless `withdraw: false`), ends watches and
   * refuses further calls. Withdrawals get one attempt each; no timer is left behind.
   */
  async stop(options: DiscoveryStopOptions = {}): Promise<void> {
    if (this.stopped.signal.aborted) return;
    this.stopped.abort(new MccError('ERR_STOPPED', 'discovery stopped'));
    const registrations = [...this.registrations.values()];
    this.registrations.clear();
    await Promise.all(registrations.map((r) => r.close(options.withdraw !== false, options.signal).catch(() => undefined)));
    for (const registration of registrations) {
      registration.dispose();
      // onClosed no longer finds these (the map is empty): release the listeners on the callers' signals here.
      this.detachers.get(registration)?.();
      this.detachers.delete(registration);
    }
    this.lookups.clear();
  }
}

function checkTtl(ttl: unknown, argument: string): number {
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < MIN_PROVIDER_TTL_MS || ttl > MAX_PROVIDER_TTL_MS) {
    throw invalidArgument(argument, `must be a number of ms in [${MIN_PROVIDER_TTL_MS}, ${MAX_PROVIDER_TTL_MS}]`);
  }
  return ttl;
}
