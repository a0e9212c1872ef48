/**
 * One top-up of relay reservations: tries candidates until enough reservations are held.
 *
 * Candidates are tried a few at a time, not one after the other: a candidate that cannot be
 * reached (filtered by our NAT's firewall, or itself behind NAT and not yet known to be) costs
 * a whole request timeout, and several of those in a row left nodes without relays for tens of
 * seconds. At first only as many attempts as reservations are missing are in flight, so a
 * healthy set of candidates yields exactly the number wanted; every `hedgeMs` that passes
 * while still short lets `spare` more attempts start (at most `maxInFlight` at once), so a
 * silent candidate delays us by a hedge, not by its timeout. A slow candidate that answers
 * after all may leave us with more reservations than wanted: the caller trims.
 */
import type { Clock, TimerHandle } from '../util/clock.js';

/** What {@link topUpReservations} needs. */
export interface TopUpOptions<Candidate> {
  /** Candidates in order of preference (none we already hold a reservation with). */
  candidates: Candidate[];
  /** Reservations held now. */
  held: () => number;
  /** Reservations wanted. */
  wanted: number;
  /** Attempts added each time `hedgeMs` passes while still short. */
  spare: number;
  /** Delay between those additions. */
  hedgeMs: number;
  /** Attempts in flight at most. */
  maxInFlight: number;
  /** Times the hedge. */
  clock: Clock;
  /** Makes one reservation; rejects when the candidate refused or did not answer. */
  reserve: (candidate: Candidate) => Promise<unknown>;
  /** False stops the round (e.g. reservations are no longer wanted). */
  active: () => boolean;
}

/** Runs one top-up; resolves with true when some attempt failed. */
export async function topUpReservations<Candidate>(options: TopUpOptions<Candidate>): Promise<boolean> {
  const { candidates, held, wanted } = options;
  let next = 0;
  let inFlight = 0;
  let allowance = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (options.active() && next < candidates.length && held() < wanted && held() + inFlight < wanted + allowance && inFlight < options.maxInFlight) {
      const candidate = candidates[next++];
      inFlight++;
      try {
        await options.reserve(candidate);
      } catch {
        failed = true;
      } finally {
        inFlight--;
      }
    }
  };
  const running = new Set<Promise<void>>();
  const launch = (count: number): void => {
    for (let i = 0; i < count; i++) {
      const attempt: Promise<void> = worker().finally(() => running.delete(attempt));
      running.add(attempt);
    }
  };
  launch(Math.min(wanted - held(), candidates.length));
  while (running.size > 0) {
    let timer: TimerHandle | undefined;
    const hedge = new Promise<'hedge'>((resolve) => (timer = options.clock.setTimeout(() => resolve('hedge'), options.hedgeMs)));
    const woke = await Promise.race([...running, hedge]);
    options.clock.clearTimeout(timer);
    if (held() >= wanted || !options.active()) continue; // let what is in flight finish
    if (woke === 'hedge') allowance += options.spare;
    launch(Math.min(options.maxInFlight - inFlight, wanted + allowance - held() - inFlight, candidates.length - next));
  }
  return failed;
}
