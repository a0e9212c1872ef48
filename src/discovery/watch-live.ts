/**
 * The subscriber side of live watch. A watch looks up the nodes closest to the service's
 * key (where providers STORE their records), leases a subscription at the nearest few of
 * them, and then takes the changes they push: each pushed record is verified here (its
 * author's signature over key, seq, expiry and value), never taken on the holder's word.
 *
 * The first events are the providers that exist already (a fresh lookup made just after the
 * subscriptions were in place, so a change in between is pushed or in the answer). Leases
 * are renewed at 50-70% of their length; a holder that stops answering, refuses, or had
 * forgotten us (it restarted, or dropped us after a failed push) is replaced by a new
 * lookup of the closest nodes, followed by a resync (a fresh lookup, diffed against what
 * was reported). When no holder accepts at all, the watch polls as before
 * ({@link watchProviders}' interval) and tries to subscribe again every lease period.
 *
 * Removal: a signed withdrawal is applied at once. A record that expired at a holder (its
 * provider stopped republishing) is not taken on the holder's word either: it triggers a
 * resync, and the provider is removed if the lookup no longer returns it.
 */
import { abortError } from '../errors.js';
import { MAX_OPEN_SET_TTL_MS } from '../kademlia/storage.js';
import { authorKey, checkRecord } from '../kademlia/record.js';
import type { Contact, SignedRecord } from '../kademlia/types.js';
import type { CryptoSuite } from '../crypto/types.js';
import { bytesToHex } from '../util/bytes.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Provider } from './provider-record.js';
import type { DiscoveryLogger } from './types.js';
import type { WatchEvent } from './watch.js';
import { WatchedProviders } from './watch-state.js';

/** Holders a watch subscribes at (nearest first). */
export const DEFAULT_WATCH_HOLDERS = 3;
/** Lease a watch asks for, ms (holders grant at most their own maximum). */
export const DEFAULT_WATCH_LEASE_MS = 60_000;
/** Shortest time between two resyncs that expiry notices cause (a holder replaying notices cannot make us look up more often). */
const NOTICE_RESYNC_MS = 1_000;
/** Even with every holder answering, the set of holders is looked up again this often (nodes join closer to the key). */
const HOLDER_REFRESH_MS = 10 * 60_000;

/** Answer of a holder to a subscribe. */
export interface SubscribeAnswer {
  /** True when the holder took the subscription. */
  ok: boolean;
  /** Lease granted, ms. */
  leaseMs: number;
  /** True when it was live already (no change missed since the previous lease). */
  renewed: boolean;
  /** Why not, when `ok` is false. */
  reason?: string;
}

/**
 * Receives a record a holder pushed for one key (`expired`: the holder says it expired
 * there); returns false when the push is refused (not from a subscribed holder).
 */
export type PushReceiver = (from: Contact, record: SignedRecord, expired: boolean) => boolean;

/** What a live watch needs from the network (the node implements it over RPC: watch-rpc.ts). */
export interface LiveWatchNetwork {
  /** The nodes closest to `key` that answered a lookup, nearest first. */
  closest(key: Uint8Array, signal: AbortSignal): Promise<Contact[]>;
  /** Leases (or with `leaseMs` 0 cancels) a subscription to `key` at `to`; rejects on timeout. */
  subscribe(to: Contact, key: Uint8Array, leaseMs: number, signal?: AbortSignal): Promise<SubscribeAnswer>;
  /**
   * Routes pushes for `key` to `receiver` until the returned function is called. `holds` says
   * whether this watch is subscribed at a holder (hex ID): a holder keeps one subscription per
   * node and key, so cancelling one is skipped while another watch of the key still uses it.
   */
  listen(key: Uint8Array, receiver: PushReceiver, holds: (holderHex: string) => boolean): () => void;
}

/** Configuration of one {@link LiveWatch}. */
export interface LiveWatchOptions {
  /** The service's DHT key. */
  key: Uint8Array;
  suite: CryptoSuite;
  clock: Clock;
  wallClock: () => number;
  random: () => number;
  network: LiveWatchNetwork;
  /** A fresh provider lookup (the first events, resyncs, and the polling fallback). */
  lookup: (signal: AbortSignal) => Promise<Provider[]>;
  /** Polling interval of the fallback, ms. */
  intervalMs: number;
  /** Holders subscribed at. Default {@link DEFAULT_WATCH_HOLDERS}. */
  holders?: number;
  /** Lease asked for, ms. Default {@link DEFAULT_WATCH_LEASE_MS}. */
  leaseMs?: number;
  /** Ends the watch (the caller's signal and the node's stop). */
  signal?: AbortSignal | undefined;
  /** Called after a pushed record was applied: cached lookup answers of this key are stale from then on. */
  changed?: (() => void) | undefined;
  /** Where going live, falling back to polling and replacing holders are reported (debug level). */
  logger?: DiscoveryLogger | undefined;
}

/** Counters of one watch (tests and the benchmark read them). */
export interface LiveWatchStats {
  /** Pushes taken (verified and newer than what was known). */
  pushes: number;
  /** Pushes refused or ignored: bad signature, wrong key, older than known, or from a holder we are not subscribed at. */
  pushesIgnored: number;
  /** Fresh lookups made (first snapshot, resyncs, polls). */
  lookups: number;
  /** Holder lookups made (to find whom to subscribe at). */
  holderLookups: number;
  /** Subscribe requests sent (renewals included). */
  subscribes: number;
  /** True while at least one holder holds our subscription; false while polling. */
  live: boolean;
}

/** One live watch of one service key. Iterate {@link LiveWatch.events} once. */
export class LiveWatch {
  private readonly internal = new AbortController();
  private readonly subscribed = new Map<string, Contact>();
  private readonly providers = new WatchedProviders((event) => this.emit(event));
  private readonly queue: WatchEvent[] = [];
  private consumer: (() => void) | undefined;
  private sleeper: { timer: TimerHandle; resolve: () => void } | undefined;
  private resyncWanted = false;
  private detach: (() => void) | undefined;
  private finished = false;
  private lastHolderLookup = Number.NEGATIVE_INFINITY;
  private lastNoticeResync = Number.NEGATIVE_INFINITY;
  private leaseMs: number;
  private reported = false;
  readonly stats: LiveWatchStats = { pushes: 0, pushesIgnored: 0, lookups: 0, holderLookups: 0, subscribes: 0, live: false };

  constructor(private readonly options: LiveWatchOptions) {
    this.leaseMs = options.leaseMs ?? DEFAULT_WATCH_LEASE_MS;
  }

  /** The events, in order: `added` for each existing provider first, then changes as they are pushed. */
  async *events(): AsyncGenerator<WatchEvent, void, undefined> {
    const outer = this.options.signal;
    const onAbort = () => this.finish();
    if (outer?.aborted) return;
    outer?.addEventListener('abort', onAbort, { once: true });
    this.detach = this.options.network.listen(
      this.options.key,
      (from, record, expired) => this.receive(from, record, expired),
      (holderHex) => this.subscribed.has(holderHex),
    );
    const running = this.run().catch(() => undefined);
    try {
      for (;;) {
        const event = this.queue.shift();
        if (event !== undefined) {
          yield event;
          continue;
        }
        if (this.finished) return;
        await new Promise<void>((resolve) => (this.consumer = resolve));
      }
    } finally {
      outer?.removeEventListener('abort', onAbort);
      this.finish();
      await running;
    }
  }

  /** Ends the watch: timers cleared, push routing detached, subscriptions cancelled (best effort). */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.internal.abort(abortError(this.internal.signal));
    this.detach?.();
    this.detach = undefined;
    this.wake();
    for (const holder of this.subscribed.values()) this.options.network.subscribe(holder, this.options.key, 0).catch(() => undefined);
    this.subscribed.clear();
    this.stats.live = false;
    this.consumer?.();
  }

  private async run(): Promise<void> {
    const { signal } = this.internal;
    await this.establish(true);
    this.resyncWanted = true;
    let renewAt = 0;
    let pollAt = 0;
    let resubscribeAt = 0;
    while (!signal.aborted) {
      if (this.resyncWanted) {
        this.resyncWanted = false;
        await this.resync();
        if (signal.aborted) return;
      }
      const now = this.options.clock.now();
      if (this.subscribed.size > 0) {
        if (renewAt === 0) renewAt = now + this.leaseMs * (0.5 + 0.2 * this.options.random());
        if (now >= renewAt) {
          renewAt = 0;
          await this.renew();
          continue;
        }
        await this.sleep(renewAt - now);
      } else {
        if (pollAt === 0) pollAt = now + this.options.intervalMs;
        if (resubscribeAt === 0) resubscribeAt = now + this.leaseMs;
        if (now >= resubscribeAt) {
          resubscribeAt = 0;
          if (await this.establish(true)) {
            this.resyncWanted = true;
            pollAt = 0;
          }
          continue;
        }
        if (now >= pollAt) {
          pollAt = 0;
          this.resyncWanted = true;
          continue;
        }
        await this.sleep(Math.min(pollAt, resubscribeAt) - now);
      }
    }
  }

  /**
   * Subscribes at the nearest holders not yet subscribed at (looking them up when
   * `lookupHolders`). Returns true when a new subscription started (a resync is due then).
   */
  private async establish(lookupHolders: boolean): Promise<boolean> {
    const { signal } = this.internal;
    const want = this.options.holders ?? DEFAULT_WATCH_HOLDERS;
    let candidates: Contact[] = [];
    if (lookupHolders) {
      this.stats.holderLookups++;
      this.lastHolderLookup = this.options.clock.now();
      candidates = await this.options.network.closest(this.options.key, signal).catch(() => []);
    }
    if (signal.aborted) return false;
    const fresh = candidates.filter((contact) => !this.subscribed.has(bytesToHex(contact.id))).slice(0, Math.max(0, want - this.subscribed.size));
    const answers = await Promise.all(fresh.map((holder) => this.subscribeAt(holder)));
    let started = false;
    fresh.forEach((holder, index) => {
      const answer = answers[index];
      if (answer?.ok) {
        started = true;
        this.subscribed.set(bytesToHex(holder.id), holder);
      }
    });
    this.report();
    return started;
  }

  private async subscribeAt(holder: Contact): Promise<SubscribeAnswer | undefined> {
    const { signal } = this.internal;
    for (let attempt = 0; attempt < 2 && !signal.aborted; attempt++) {
      this.stats.subscribes++;
      const answer = await this.options.network.subscribe(holder, this.options.key, this.leaseMs, signal).catch(() => undefined);
      if (answer === undefined) return undefined;
      if (answer.ok) {
        if (answer.leaseMs > 0) this.leaseMs = Math.min(this.options.leaseMs ?? DEFAULT_WATCH_LEASE_MS, answer.leaseMs);
        return answer;
      }
      // The answer to an unvalidated address carried a token: the second request proves the address.
      if (answer.reason !== 'unvalidated') return answer;
    }
    return undefined;
  }

  /** Renews every lease; replaces holders that failed or forgot us, and resyncs after any gap. */
  private async renew(): Promise<void> {
    const holders = [...this.subscribed.values()];
    const answers = await Promise.all(holders.map((holder) => this.subscribeAt(holder)));
    if (this.internal.signal.aborted) return;
    let gap = false;
    holders.forEach((holder, index) => {
      const answer = answers[index];
      if (answer?.ok && answer.renewed) return;
      if (!answer?.ok) this.subscribed.delete(bytesToHex(holder.id));
      gap = true;
    });
    const want = this.options.holders ?? DEFAULT_WATCH_HOLDERS;
    const stale = this.options.clock.now() - this.lastHolderLookup >= HOLDER_REFRESH_MS;
    if (this.subscribed.size < want && (gap || stale)) {
      if (await this.establish(true)) gap = true;
    } else if (stale) {
      // Nodes that joined nearer to the key take the STOREs first: follow them.
      this.lastHolderLookup = this.options.clock.now();
      this.stats.holderLookups++;
      const nearest = await this.options.network.closest(this.options.key, this.internal.signal).catch(() => undefined);
      if (nearest !== undefined && nearest.length > 0) {
        const top = new Set(nearest.slice(0, want).map((contact) => bytesToHex(contact.id)));
        for (const [hex, holder] of [...this.subscribed]) {
          if (top.has(hex)) continue;
          this.subscribed.delete(hex);
          this.options.network.subscribe(holder, this.options.key, 0).catch(() => undefined);
        }
        if (this.subscribed.size < want) {
          const fresh = nearest.filter((contact) => !this.subscribed.has(bytesToHex(contact.id))).slice(0, want - this.subscribed.size);
          const answers2 = await Promise.all(fresh.map((holder) => this.subscribeAt(holder)));
          fresh.forEach((holder, index) => {
            if (answers2[index]?.ok) {
              this.subscribed.set(bytesToHex(holder.id), holder);
              gap = true;
            }
          });
        }
      }
    }
    this.report();
    if (gap) this.resyncWanted = true;
  }

  /** A fresh lookup, reported as the difference from what the consumer was told. */
  private async resync(): Promise<void> {
    this.providers.beginResync();
    this.stats.lookups++;
    let providers: Provider[];
    try {
      providers = await this.options.lookup(this.internal.signal);
    } catch {
      return; // the next renewal or poll tries again
    }
    if (this.internal.signal.aborted) return;
    this.providers.applySnapshot(providers, this.options.wallClock());
  }

  /** A record a holder pushed. */
  private receive(from: Contact, record: SignedRecord, expired: boolean): boolean {
    if (this.finished || !this.subscribed.has(bytesToHex(from.id))) {
      this.stats.pushesIgnored++;
      return false;
    }
    const { key, suite } = this.options;
    const now = this.options.wallClock();
    // An expired record is checked as of just before its expiry: the signature is what matters.
    const problem = checkRecord(suite, record, key, record.expiresAt <= now ? record.expiresAt - 1 : now, MAX_OPEN_SET_TTL_MS);
    if (problem !== null || record.author.length !== 32) {
      this.stats.pushesIgnored++;
      return true; // answered (the holder is not at fault for what an author signed), not applied
    }
    const author = authorKey(record);
    if (expired && !record.withdrawn) {
      // The holder's word that nobody republished it: worth a lookup, not a removal by itself.
      const shown = this.providers.shown(author);
      const clockNow = this.options.clock.now();
      if (shown !== undefined && shown.seq <= record.seq && clockNow - this.lastNoticeResync >= NOTICE_RESYNC_MS) {
        this.lastNoticeResync = clockNow;
        this.stats.pushes++;
        this.resyncWanted = true;
        this.wake();
      } else {
        this.stats.pushesIgnored++;
      }
      return true;
    }
    if (!this.providers.applyPushed(record, now)) {
      this.stats.pushesIgnored++;
      return true;
    }
    this.stats.pushes++;
    this.options.changed?.();
    return true;
  }

  /** Updates `stats.live` and logs a switch between live and polling. */
  private report(): void {
    const live = this.subscribed.size > 0;
    if (live !== this.stats.live || !this.reported) {
      const details = { key: bytesToHex(this.options.key).slice(0, 16), holders: this.subscribed.size };
      if (live) this.options.logger?.debug?.('watch: live, subscribed at the holders', details);
      else this.options.logger?.debug?.(`watch: no holder accepted a subscription; polling every ${this.options.intervalMs} ms`, details);
    }
    this.reported = true;
    this.stats.live = live;
  }

  private emit(event: WatchEvent): void {
    if (this.finished) return;
    this.queue.push(event);
    const consumer = this.consumer;
    this.consumer = undefined;
    consumer?.();
  }

  /** Sleeps on the injected clock until `ms` passed or {@link LiveWatch.wake}. */
  private sleep(ms: number): Promise<void> {
    if (this.internal.signal.aborted || this.resyncWanted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = this.options.clock.setTimeout(
        () => {
          this.sleeper = undefined;
          resolve();
        },
        Math.max(0, ms),
      );
      this.sleeper = { timer, resolve };
    });
  }

  private wake(): void {
    const sleeper = this.sleeper;
    if (sleeper === undefined) return;
    this.sleeper = undefined;
    this.options.clock.clearTimeout(sleeper.timer);
    sleeper.resolve();
  }
}
