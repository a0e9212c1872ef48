/**
 * Keep-alive interval learning.
 *
 * A NAT forgets an idle UDP mapping (and its filter permission) after a timeout
 * that varies from ~20 s to several minutes. Too-frequent keep-alives waste battery
 * and bandwidth on every relay and peer session; too-rare ones make the node
 * silently unreachable. The learner finds the timeout by experiment:
 *
 * 1. Start at `initialMs` (15 s): safe for nearly every NAT.
 * 2. Test an idle length t: ask a peer we are otherwise silent towards to send us a
 *    packet after t (delayed echo, probe-service.ts). It arrives iff the mapping towards
 *    that peer survived t of silence.
 * 3. Without a failure yet, grow t by 1.5x from the longest success; after a failure,
 *    bisect between the longest success and the shortest failure. Stop when the
 *    bracket is within 10 %, after `maxTests` tests, or at `maxMs`.
 * 4. The interval is `safety` (0.8) x the longest proven idle, clamped to [minMs, maxMs];
 *    while nothing is proven, it stays at `initialMs` unless a failure below it
 *    forces half the failure.
 * 5. When the owner finds a mapping dead in production ({@link KeepaliveLearner.mappingDead}:
 *    the observed address changed, a relay lost us), the interval halves (not below
 *    `minMs`) and the bracket shrinks to match; learning resumes later.
 * 6. A network change ({@link KeepaliveLearner.reset}) starts over.
 *
 * Bounded: at most `maxTests` tests per learning round, each at most `maxMs` idle.
 */
import type { TimerHandle, Clock } from '../util/clock.js';
import { invalidArgument } from '../errors.js';

/** How the keep-alive interval towards relays and peers is learned (`NatTuning.keepalive`). */
export interface KeepaliveLearnerOptions {
  /** Starting interval. Default 15 000 ms. */
  initialMs?: number;
  /** Lower bound. Default 5 000 ms. */
  minMs?: number;
  /** Upper bound of the interval and of a tested idle length. Default 120 000 ms. */
  maxMs?: number;
  /** Fraction of the longest proven idle used as the interval. Default 0.8. */
  safety?: number;
  /** Tests per learning round. Default 8. */
  maxTests?: number;
}

/** The pure learning state machine (no timers, no IO). */
export class KeepaliveLearner {
  private readonly initialMs: number;
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly safety: number;
  private readonly maxTests: number;
  /** Longest idle proven to keep the mapping (0: none). */
  private alive = 0;
  /** Shortest idle proven to lose it (Infinity: none). */
  private dead = Number.POSITIVE_INFINITY;
  private tests = 0;
  private current: number;

  constructor(options: KeepaliveLearnerOptions = {}) {
    this.initialMs = options.initialMs ?? 15_000;
    this.minMs = options.minMs ?? 5_000;
    this.maxMs = options.maxMs ?? 120_000;
    this.safety = options.safety ?? 0.8;
    this.maxTests = options.maxTests ?? 8;
    if (!(this.minMs > 0 && this.minMs <= this.initialMs && this.initialMs <= this.maxMs))
      throw invalidArgument('initialMs', 'expected 0 < minMs <= initialMs <= maxMs');
    if (!(this.safety > 0 && this.safety <= 1)) throw invalidArgument('safety', 'expected 0 < safety <= 1');
    this.current = this.initialMs;
  }

  /** The keep-alive interval to use now. */
  get intervalMs(): number {
    return this.current;
  }

  /** What has been proven: longest surviving idle, shortest fatal idle. */
  get bracket(): { aliveMs: number; deadMs: number } {
    return { aliveMs: this.alive, deadMs: this.dead };
  }

  /** The idle length to test next, or undefined when learning is done for this round. */
  nextTest(): number | undefined {
    if (this.tests >= this.maxTests) return undefined;
    let next: number;
    if (!Number.isFinite(this.dead)) {
      if (this.alive >= this.maxMs) return undefined;
      next = Math.min(this.maxMs, Math.max(this.alive, this.current) * 1.5);
    } else {
      if (this.dead - this.alive <= Math.max(this.minMs / 5, this.alive * 0.1)) return undefined;
      next = (Math.max(this.alive, this.minMs / 2) + this.dead) / 2;
    }
    return Math.round(next);
  }

  /** Feeds the result of a test of `idleMs`. */
  record(idleMs: number, survived: boolean): void {
    if (!(idleMs > 0)) return;
    this.tests++;
    if (survived) this.alive = Math.max(this.alive, idleMs);
    else this.dead = Math.min(this.dead, idleMs);
    if (this.alive >= this.dead) this.alive = this.dead * 0.5; // contradictory evidence: believe the failure
    this.update();
  }

  /** The owner saw a mapping die at the current interval: back off. */
  mappingDead(): void {
    this.dead = Math.min(this.dead, this.current);
    this.alive = Math.min(this.alive, this.current / 2);
    this.current = Math.max(this.minMs, this.current / 2);
    this.tests = 0;
  }

  /** Starts learning afresh (after a network change). */
  reset(): void {
    this.alive = 0;
    this.dead = Number.POSITIVE_INFINITY;
    this.tests = 0;
    this.current = this.initialMs;
  }

  /** Allows another round of tests, keeping what was proven (periodic re-learning). */
  relearn(): void {
    this.tests = 0;
  }

  private update(): void {
    let next: number;
    if (this.alive > 0) next = this.alive * this.safety;
    else if (Number.isFinite(this.dead) && this.dead <= this.initialMs) next = this.dead / 2;
    else next = this.initialMs;
    if (Number.isFinite(this.dead)) next = Math.min(next, this.dead * this.safety);
    this.current = Math.min(this.maxMs, Math.max(this.minMs, next));
  }
}

/** Options of a {@link KeepaliveScheduler}. */
export interface KeepaliveSchedulerOptions {
  /** Sends one keep-alive on every mapping to keep (e.g. a ping to each relay). */
  sendKeepalive: () => void;
  /** Tests one idle length (a delayed echo from a peer we are otherwise silent towards); undefined = test impossible. */
  testIdle?: (idleMs: number) => Promise<boolean | undefined>;
  /** Delay before the first test. Default 1000 ms. */
  firstTestDelayMs?: number;
  /** Re-learn after this long. Default 1 hour. */
  relearnAfterMs?: number;
}

/** Drives a {@link KeepaliveLearner} with a clock: sends keep-alives and runs tests one at a time. */
export class KeepaliveScheduler {
  private keepaliveTimer: TimerHandle | undefined;
  private testTimer: TimerHandle | undefined;
  private running = false;
  private testing = false;
  /** Keep-alives sent so far. */
  sent = 0;

  constructor(
    private readonly clock: Clock,
    readonly learner: KeepaliveLearner,
    private readonly options: KeepaliveSchedulerOptions,
  ) {}

  /** Starts sending keep-alives (and learning, when `testIdle` is given). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.scheduleKeepalive();
    this.scheduleTest(this.options.firstTestDelayMs ?? 1000);
  }

  /** Stops all timers. */
  stop(): void {
    this.running = false;
    this.clock.clearTimeout(this.keepaliveTimer);
    this.clock.clearTimeout(this.testTimer);
  }

  /** The owner saw a mapping die: back off now and send a keep-alive at once. */
  mappingDead(): void {
    this.learner.mappingDead();
    if (!this.running) return;
    this.fire();
    this.scheduleTest(this.learner.intervalMs);
  }

  /** Network changed: start learning afresh. */
  networkChanged(): void {
    this.learner.reset();
    if (!this.running) return;
    this.fire();
    this.scheduleTest(this.options.firstTestDelayMs ?? 1000);
  }

  private fire(): void {
    this.sent++;
    this.options.sendKeepalive();
    this.scheduleKeepalive();
  }

  private scheduleKeepalive(): void {
    this.clock.clearTimeout(this.keepaliveTimer);
    if (this.running) this.keepaliveTimer = this.clock.setTimeout(() => this.fire(), this.learner.intervalMs);
  }

  private scheduleTest(delay: number): void {
    if (!this.running || !this.options.testIdle || this.testing) return;
    this.clock.clearTimeout(this.testTimer);
    this.testTimer = this.clock.setTimeout(() => void this.runTest(), delay);
  }

  private async runTest(): Promise<void> {
    const idle = this.learner.nextTest();
    if (idle === undefined) {
      this.testTimer = this.clock.setTimeout(
        () => {
          this.learner.relearn();
          void this.runTest();
        },
        this.options.relearnAfterMs ?? 60 * 60_000,
      );
      return;
    }
    this.testing = true;
    let survived: boolean | undefined;
    try {
      survived = await this.options.testIdle!(idle);
    } catch {
      survived = undefined;
    }
    this.testing = false;
    if (!this.running) return;
    const before = this.learner.intervalMs;
    if (survived !== undefined) this.learner.record(idle, survived);
    // A shorter interval takes effect at once; a longer one from the next keep-alive.
    if (this.learner.intervalMs < before) this.scheduleKeepalive();
    this.scheduleTest(survived === undefined ? 60_000 : 1000);
  }
}
