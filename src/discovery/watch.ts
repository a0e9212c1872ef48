/**
 * Watch events, their diff, and the polling watch. On a node, `watch()` is live
 * (watch-live.ts: holders push changes, so an event arrives within one round trip of the
 * STORE that caused it); this polling loop is its fallback when no holder accepts a
 * subscription, and the whole watch where there is no wire (`live: false`, or a
 * Discovery without a live-watch network). Polling costs one DHT lookup per interval per
 * watched service, and a change shows up within one interval (a withdrawal) or within
 * TTL + one interval (a crash).
 */
import { MccError } from '../errors.js';
import type { Clock } from '../util/clock.js';
import type { Provider } from './provider-record.js';

/** Default polling interval, ms: 5 s bounds how long a change goes unseen at one lookup per 5 s. */
export const DEFAULT_WATCH_INTERVAL_MS = 5_000;
/** Shortest polling interval accepted, ms. */
export const MIN_WATCH_INTERVAL_MS = 100;

/** A change in a service's providers. `updated`: same provider, different addresses, relays or metadata. */
export interface WatchEvent {
  /** What happened: a new provider, one gone (withdrawn or expired), or a changed record. */
  type: 'added' | 'removed' | 'updated';
  /** The provider as now seen; for `removed`, as last seen. */
  provider: Provider;
}

/** Options of a watch. */
export interface WatchOptions {
  /** Ends the watch (the iteration finishes without an error). */
  signal?: AbortSignal;
  /** Polling interval, ms, when polling (the fallback of a live watch, or `live: false`). Default {@link DEFAULT_WATCH_INTERVAL_MS}. */
  intervalMs?: number;
  /** Subscribe at the holders of the service's records and take pushed changes. Default true; false polls. */
  live?: boolean;
}

/** True when two records of one provider advertise the same thing (a republish changes only seq and expiry). */
function sameContent(a: Provider, b: Provider): boolean {
  return Buffer.compare(a.record.value, b.record.value) === 0;
}

/**
 * Events that turn `previous` into `next` (both keyed by provider ID): removals first, then
 * additions and updates in node-ID order, so every run reports the same change the same way.
 */
export function diffProviders(previous: ReadonlyMap<string, Provider>, next: ReadonlyMap<string, Provider>): WatchEvent[] {
  const events: WatchEvent[] = [];
  for (const [id, provider] of previous) if (!next.has(id)) events.push({ type: 'removed', provider });
  for (const id of [...next.keys()].sort()) {
    const provider = next.get(id)!;
    const before = previous.get(id);
    if (before === undefined) events.push({ type: 'added', provider });
    else if (!sameContent(before, provider)) events.push({ type: 'updated', provider });
  }
  return events;
}

/** Sleeps on the injected clock; resolves early (false) when `signal` aborts. */
function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clock.clearTimeout(handle);
      resolve(false);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Polls `lookup` every `intervalMs` and yields the differences. The first poll reports
 * every current provider as `added`. A failed poll is skipped (the next one catches up).
 * Ends cleanly (no error) when `signal` aborts, `stopped` fires, or the consumer breaks out.
 */
export async function* watchProviders(
  lookup: (signal: AbortSignal | undefined) => Promise<Provider[]>,
  clock: Clock,
  options: WatchOptions & { stopped?: AbortSignal } = {},
): AsyncGenerator<WatchEvent, void, undefined> {
  const intervalMs = options.intervalMs ?? DEFAULT_WATCH_INTERVAL_MS;
  const signal = options.stopped && options.signal ? AbortSignal.any([options.signal, options.stopped]) : (options.signal ?? options.stopped);
  let current = new Map<string, Provider>();
  while (!signal?.aborted) {
    let providers: Provider[] | undefined;
    try {
      providers = await lookup(signal);
    } catch (error) {
      if (signal?.aborted) return;
      if (error instanceof MccError && error.code === 'ERR_STOPPED') return;
    }
    if (providers !== undefined) {
      const next = new Map(providers.map((p) => [p.id, p] as const));
      const events = diffProviders(current, next);
      current = next;
      for (const event of events) {
        if (signal?.aborted) return;
        yield event;
      }
    }
    if (!(await sleep(clock, intervalMs, signal))) return;
  }
}
