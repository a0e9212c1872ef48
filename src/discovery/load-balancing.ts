/**
 * Load-balancing strategies: the order in which `connect()` tries a service's providers.
 * Pure functions of the provider list, the strategy's small state and an injected random
 * source, so they are deterministic under test.
 */
import { invalidArgument } from '../errors.js';
import type { Provider } from './provider-record.js';

/** A user strategy: returns the providers in the order to try them (a subset is fine). */
export type StrategyFunction = (providers: readonly Provider[], context: { service: string }) => readonly Provider[];

/** How to order providers: a built-in strategy or a user function. */
export type Strategy = 'random' | 'round-robin' | 'least-latency' | StrategyFunction;

/** Built-in strategy names. */
export const STRATEGIES = ['random', 'round-robin', 'least-latency'] as const;

/** State a strategy carries between calls (round-robin cursors). One per node is enough. */
export class BalancerState {
  private readonly cursors = new Map<string, number>();
  /** Most services tracked; the oldest cursor is dropped beyond it. */
  constructor(private readonly maxServices = 1_024) {}

  /** @internal Returns and advances the round-robin cursor of `service`. */
  next(service: string): number {
    const value = this.cursors.get(service) ?? 0;
    this.cursors.delete(service);
    this.cursors.set(service, value + 1);
    if (this.cursors.size > this.maxServices) this.cursors.delete(this.cursors.keys().next().value as string);
    return value;
  }
}

/**
 * Validates a strategy argument.
 * @throws MccError `ERR_INVALID_ARGUMENT` naming `strategy`.
 */
export function checkStrategy(strategy: unknown): Strategy {
  if (typeof strategy === 'function' || (STRATEGIES as readonly unknown[]).includes(strategy)) return strategy as Strategy;
  throw invalidArgument('strategy', `must be one of ${STRATEGIES.join(', ')} or a function`);
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/**
 * Orders `providers` for trying, first choice first.
 * - `random`: a uniform shuffle.
 * - `round-robin`: providers sorted by node ID, rotated one further per call for `service`.
 * - `least-latency`: ascending measured RTT; providers without a measurement follow, shuffled
 *   (so unmeasured providers get measured instead of one of them taking all the load).
 * - a function: its answer, restricted to the given providers, deduplicated.
 */
export function pickProviders(
  providers: readonly Provider[],
  strategy: Strategy,
  options: { state?: BalancerState; service?: string; random?: () => number } = {},
): Provider[] {
  const random = options.random ?? Math.random;
  const service = options.service ?? '';
  if (typeof strategy === 'function') {
    const known = new Set(providers);
    const seen = new Set<string>();
    const out: Provider[] = [];
    for (const provider of strategy(providers, { service }) ?? []) {
      if (!known.has(provider) || seen.has(provider.id)) continue;
      seen.add(provider.id);
      out.push(provider);
    }
    return out;
  }
  switch (strategy) {
    case 'random':
      return shuffle([...providers], random);
    case 'round-robin': {
      if (providers.length === 0) return [];
      const sorted = [...providers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const start = (options.state ?? new BalancerState()).next(service) % sorted.length;
      return [...sorted.slice(start), ...sorted.slice(0, start)];
    }
    case 'least-latency': {
      const measured = providers.filter((p) => p.rttMs !== undefined).sort((a, b) => a.rttMs! - b.rttMs!);
      const unmeasured = shuffle(
        providers.filter((p) => p.rttMs === undefined),
        random,
      );
      return [...measured, ...unmeasured];
    }
    default:
      checkStrategy(strategy);
      throw new Error('unreachable: checkStrategy threw');
  }
}
