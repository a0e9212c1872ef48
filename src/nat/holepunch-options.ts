/** Options of the hole puncher and their defaults (holepunch.ts uses them). */
import type { ProbeBudgetOptions } from './probe-budget.js';
import type { RandomFn, SocketFactory } from './types.js';

/** Hole punching: timing, probe budgets and the strategies for random-mapping NATs (`NatTuning.holepunch`). */
export interface HolePunchOptions {
  /** Budget of the rendezvous, and of one attempt after it. Default 4000 ms. */
  timeoutMs?: number;
  /** Interval of main-socket probes. Default 50 ms. */
  probeIntervalMs?: number;
  /**
   * Rounds of main-socket probes the initiator sends before the rendezvous answer, to the
   * addresses of the peer's provider record (nobody has confirmed those yet: a hostile
   * record can list third parties). Probing then pauses until the answer comes. Default
   * 10 (500 ms at the default interval: enough for the answer on most paths); 0 disables
   * early probing.
   */
  earlyProbeRounds?: number;
  /**
   * Per-address budget of main-socket probes to addresses that have not sent us an
   * authenticated probe — every such probe, before the answer or after (an answer is the
   * peer's word, not a confirmation) — shared by all attempts of the node. Defaults: see
   * {@link ProbeBudgetOptions} (20 at once, 2/s after).
   */
  probeBudget?: ProbeBudgetOptions;
  /** Extra sockets a random-mapping side opens. Default 256 (0 disables). */
  birthdaySockets?: number;
  /** Interval of spray probes. Default 2 ms. */
  sprayIntervalMs?: number;
  /**
   * Spray probes per attempt. Default 2000. Also the per-host bulk budget: a host the relay
   * did not vouch for gets at most this many spray and birthday probes (or `birthdaySockets`,
   * if larger) from this node per 5 min (holepunch-guard.ts).
   */
  maxSprayProbes?: number;
  /** Punches running at once (both roles). Default 8. */
  maxConcurrent?: number;
  /** Random source for spray ports. Default Math.random. */
  random?: RandomFn;
  /** Opens extra sockets; without it there is no birthday strategy. */
  openSocket?: SocketFactory;
}

/** {@link HolePunchOptions} with every default filled in (except the socket factory and the budget's own). */
export type HolePunchLimits = Required<Omit<HolePunchOptions, 'openSocket' | 'probeBudget'>>;

/** Fills in the defaults of {@link HolePunchOptions}. */
export function holePunchLimits(options: HolePunchOptions): HolePunchLimits {
  return {
    timeoutMs: options.timeoutMs ?? 4000,
    probeIntervalMs: options.probeIntervalMs ?? 50,
    earlyProbeRounds: options.earlyProbeRounds ?? 10,
    birthdaySockets: options.birthdaySockets ?? 256,
    sprayIntervalMs: options.sprayIntervalMs ?? 2,
    maxSprayProbes: options.maxSprayProbes ?? 2000,
    maxConcurrent: options.maxConcurrent ?? 8,
    random: options.random ?? Math.random,
  };
}
