/**
 * Failover with per-provider back-off: `connect()` tries providers in the balancer's order,
 * moves the ones that failed recently to the end (each failure doubles its back-off, a
 * success or any sign of life clears it), and starts the next provider while a slow one is
 * still being tried (after a stagger derived from round trips), so a dead provider costs
 * one stagger rather than a whole timeout. What one run learns steers the next ones.
 */
import { MccError, abortError, invalidArgument } from '../errors.js';
import type { Clock } from '../util/clock.js';
import { BalancerState, pickProviders, type Strategy } from './load-balancing.js';
import type { Provider } from './provider-record.js';

/** Back-off tuning of a {@link Failover}. */
export interface FailoverOptions {
  clock: Clock;
  /** Back-off after the first failure, ms. Default 1,000. */
  baseBackoffMs?: number;
  /** Longest back-off, ms. Default 60,000. */
  maxBackoffMs?: number;
  /** Most providers tracked (oldest dropped first). Default 4,096. */
  maxTracked?: number;
  /** Random source for strategies. Default Math.random. */
  random?: () => number;
}

interface BackoffEntry {
  failures: number;
  until: number;
}

/** Options of one {@link Failover.run}. */
export interface FailoverRunOptions {
  /** Service name (round-robin cursors are per service). */
  service?: string;
  /** Default 'random'. */
  strategy?: Strategy;
  /** Most providers tried. Default: all of them. */
  maxAttempts?: number;
  /**
   * How long to wait for an attempt on `provider` before starting the next one in parallel
   * (the slow one keeps going; the first success wins). Default: none, one at a time.
   */
  staggerMs?: (provider: Provider) => number;
  /** Releases a result that arrived after another attempt had already won. */
  discard?: (result: unknown) => void;
  signal?: AbortSignal;
}

/** Per-node failover state: back-offs and round-robin cursors. */
export class Failover {
  /** Round-robin cursors shared by every run. */
  readonly balancer = new BalancerState();
  private readonly backoffs = new Map<string, BackoffEntry>();

  constructor(private readonly options: FailoverOptions) {}

  /** Records a failed attempt on `providerId` (hex): it is skipped for a doubling back-off. */
  fail(providerId: string): void {
    const base = this.options.baseBackoffMs ?? 1_000;
    const max = this.options.maxBackoffMs ?? 60_000;
    const failures = (this.backoffs.get(providerId)?.failures ?? 0) + 1;
    this.backoffs.delete(providerId);
    this.backoffs.set(providerId, { failures, until: this.options.clock.now() + Math.min(max, base * 2 ** (failures - 1)) });
    if (this.backoffs.size > (this.options.maxTracked ?? 4_096)) this.backoffs.delete(this.backoffs.keys().next().value as string);
  }

  /** Records a success: the provider's back-off is cleared. */
  succeed(providerId: string): void {
    this.backoffs.delete(providerId);
  }

  /** True while `providerId` is backed off. */
  isBackedOff(providerId: string): boolean {
    const entry = this.backoffs.get(providerId);
    return entry !== undefined && entry.until > this.options.clock.now();
  }

  /**
   * The providers in the order to try: the strategy's order with backed-off ones moved to
   * the end (soonest-recovering first), so a service whose providers all failed recently is
   * still tried rather than refused.
   */
  order(providers: readonly Provider[], options: FailoverRunOptions = {}): Provider[] {
    const ordered = pickProviders(providers, options.strategy ?? 'random', {
      state: this.balancer,
      service: options.service ?? '',
      ...(this.options.random ? { random: this.options.random } : {}),
    });
    const ready = ordered.filter((p) => !this.isBackedOff(p.id));
    const waiting = ordered.filter((p) => this.isBackedOff(p.id)).sort((a, b) => this.backoffs.get(a.id)!.until - this.backoffs.get(b.id)!.until);
    return [...ready, ...waiting];
  }

  /**
   * Calls `attempt` on providers in {@link Failover.order} until one succeeds (at most
   * `maxAttempts` of them), starting the next while one is slower than its stagger. The
   * attempts still running when one succeeds are aborted through their signal, and a late
   * success is handed to `discard`. Failures and the success update the back-offs.
   * @throws MccError `ERR_NOT_FOUND` with no providers, `ERR_UNREACHABLE` (cause: AggregateError
   *   of every attempt's error) when all attempts failed, `ERR_ABORTED` when `signal` fires.
   */
  run<T>(
    providers: readonly Provider[],
    attempt: (provider: Provider, signal: AbortSignal) => Promise<T>,
    options: FailoverRunOptions = {},
  ): Promise<{ provider: Provider; result: T }> {
    const maxAttempts = options.maxAttempts ?? Infinity;
    if (maxAttempts !== Infinity && (!Number.isInteger(maxAttempts) || maxAttempts < 1))
      return Promise.reject(invalidArgument('maxAttempts', 'must be an integer >= 1'));
    if (options.signal?.aborted) return Promise.reject(abortError(options.signal));
    const order = this.order(providers, options).slice(0, maxAttempts);
    if (order.length === 0) return Promise.reject(new MccError('ERR_NOT_FOUND', `no provider of "${options.service ?? ''}" to try`));
    const { clock } = this.options;
    // Aborted when the run ends either way: losers stop, and so does everything on the caller's abort.
    const running = new AbortController();
    const onAbort = (): void => running.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    return new Promise((resolve, reject) => {
      const errors: unknown[] = [];
      let next = 0;
      let pending = 0;
      let done = false;
      const finish = (settle: () => void): void => {
        done = true;
        options.signal?.removeEventListener('abort', onAbort);
        running.abort(new MccError('ERR_ABORTED', 'another provider answered first'));
        settle();
      };
      const launch = (): void => {
        if (done || next >= order.length) return;
        const provider = order[next++];
        pending++;
        const stagger = options.staggerMs?.(provider);
        const timer = stagger !== undefined && next < order.length ? clock.setTimeout(launch, stagger) : undefined;
        const settled = (): void => {
          pending--;
          if (timer !== undefined) clock.clearTimeout(timer);
        };
        attempt(provider, running.signal).then(
          (result) => {
            settled();
            if (done) return options.discard?.(result);
            this.succeed(provider.id);
            finish(() => resolve({ provider, result }));
          },
          (error: unknown) => {
            settled();
            if (done) return;
            if (options.signal?.aborted) return finish(() => reject(abortError(options.signal!)));
            this.fail(provider.id);
            errors.push(error);
            if (next < order.length) launch();
            else if (pending === 0)
              finish(() => reject(new MccError('ERR_UNREACHABLE', `all ${errors.length} provider(s) tried failed`, { cause: new AggregateError(errors) })));
          },
        );
      };
      launch();
    });
  }
}
