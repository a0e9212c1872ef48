/**
 * Iterative Kademlia lookup over promise-returning queries and an injected clock.
 *
 * Up to `alpha` queries run at once; a query slower than its soft deadline (about 2x the
 * expected RTT) stops holding a slot, so one slow peer does not stall the lookup, and is
 * abandoned at its hard deadline. Stopping rule (the paper's): the lookup ends when the k
 * closest contacts seen have all answered. The remaining unqueried of the k closest are
 * queried at once (the final round) when a round brings nothing closer (by default two
 * answers in a row that leave the k closest unchanged) or, earlier, as soon as a node
 * among the k closest has answered. Hard caps on queries, candidates kept and total time
 * make it end whatever peers answer — also against peers that reply with endless fresh
 * contacts.
 */
import type { Clock, TimerHandle } from '../util/clock.js';
import { abortError } from '../errors.js';
import { compareDistance, isId, sameId, type Positions } from './keyspace.js';
import type { Contact } from './types.js';

/** What a queried peer answers: closer contacts, and maybe a write token. */
export interface QueryAnswer {
  contacts: Contact[];
  token?: Uint8Array;
}

/** Tuning of one lookup. */
export interface LookupParams {
  k?: number;
  /** Parallel queries. Default 3. */
  alpha?: number;
  /** Most queries sent in total. Default 200. */
  maxQueries?: number;
  /** Most time the lookup may take, ms. Default 20,000. */
  maxDurationMs?: number;
  /** RTT assumed for a peer with no measurement, ms. Default 500. */
  defaultRttMs?: number;
  /** Ceiling of one query's hard deadline, ms. Default 3,000. */
  maxQueryTimeoutMs?: number;
  /** Most candidates remembered (nearest kept). Default 8k. */
  maxCandidates?: number;
  /**
   * Consecutive answers that leave the k nearest unchanged after which the neighbourhood
   * counts as found and the rest of the k nearest are queried at once. Default 2 (measured:
   * one round trip faster than waiting for a full alpha round, same message count).
   */
  stallAnswers?: number;
  /**
   * The final round (all of the k nearest queried at once) starts as soon as one of the
   * `eagerFinal` nearest live candidates has answered: a node that close knows the target's
   * neighbourhood, so the rest of the k nearest are worth asking now rather than alpha at a
   * time (0 = only after a stall). Default k (measured at N = 10,000: 0.15 round trips
   * faster than waiting for a stall, same message count).
   */
  eagerFinal?: number;
}

/** Everything one lookup needs. */
export interface LookupOptions<A extends QueryAnswer> extends LookupParams {
  /** Position being looked up. */
  target: Uint8Array;
  /** Contacts to start from (usually our k closest to the target). */
  seeds: Contact[];
  /** Sends one query; must reject when `signal` aborts. */
  query: (to: Contact, signal: AbortSignal) => Promise<A>;
  positions: Positions;
  clock: Clock;
  /** Our own node ID, never queried. */
  self?: Uint8Array;
  /** Measured RTT of a peer, if any. */
  rtt?: (to: Contact) => number | undefined;
  signal?: AbortSignal;
  /** Called on every answer; returning true ends the lookup (e.g. a value was found). */
  onAnswer?: (from: Contact, answer: A) => boolean;
  /** Called when a query fails or times out (the caller lowers the peer's standing). */
  onFailure?: (to: Contact) => void;
  /** Called with each answer's measured round-trip time. */
  onRtt?: (to: Contact, ms: number) => void;
}

/** A contact that answered, with the write token it issued. */
export interface LookupHit {
  contact: Contact;
  position: Uint8Array;
  token?: Uint8Array;
}

/** Why the lookup ended. */
export type LookupEnd = 'converged' | 'exhausted' | 'stopped' | 'query-cap' | 'time-cap';

/** Outcome of a lookup. */
export interface LookupResult {
  /** Up to k closest contacts that answered, nearest first. */
  closest: LookupHit[];
  /** Queries sent. */
  queries: number;
  /** Queries answered. */
  answers: number;
  /** Contacts dropped from answers as malformed. */
  malformed: number;
  durationMs: number;
  end: LookupEnd;
}

const PENDING = 0;
const INFLIGHT = 1;
const ANSWERED = 2;
const FAILED = 3;

interface Candidate {
  contact: Contact;
  position: Uint8Array;
  state: number;
  /** True once past the soft deadline: no longer holds a parallelism slot. */
  slow: boolean;
  token?: Uint8Array;
}

/** Runs one iterative lookup. Resolves with what it found; rejects only when `signal` aborts. */
export function iterativeLookup<A extends QueryAnswer>(options: LookupOptions<A>): Promise<LookupResult> {
  return new Lookup(options).run();
}

class Lookup<A extends QueryAnswer> {
  private readonly k: number;
  private readonly alpha: number;
  private readonly maxQueries: number;
  private readonly maxCandidates: number;
  private readonly stallAnswers: number;
  private readonly eagerCount: number;
  private readonly candidates: Candidate[] = [];
  private readonly controllers = new Map<Candidate, AbortController>();
  private readonly timers = new Set<TimerHandle>();
  private readonly started: number;
  private queries = 0;
  private answers = 0;
  private malformed = 0;
  private active = 0;
  private sinceProgress = 0;
  private rttEstimate: number | undefined;
  private done = false;
  private resolve!: (result: LookupResult) => void;
  private reject!: (error: unknown) => void;
  private capTimer: TimerHandle | undefined;
  private readonly onAbort = () => this.fail(abortError(this.o.signal!));

  constructor(private readonly o: LookupOptions<A>) {
    this.k = o.k ?? 20;
    this.alpha = o.alpha ?? 3;
    this.maxQueries = o.maxQueries ?? 200;
    this.maxCandidates = o.maxCandidates ?? this.k * 8;
    this.stallAnswers = o.stallAnswers ?? 2;
    this.eagerCount = o.eagerFinal ?? this.k;
    this.started = o.clock.now();
  }

  run(): Promise<LookupResult> {
    const promise = new Promise<LookupResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    if (this.o.signal?.aborted) {
      this.fail(abortError(this.o.signal));
      return promise;
    }
    this.o.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.capTimer = this.o.clock.setTimeout(() => this.finish('time-cap'), this.o.maxDurationMs ?? 20_000);
    for (const seed of this.o.seeds) this.consider(seed);
    this.pump();
    return promise;
  }

  /** Adds a contact as a candidate unless malformed, ourselves, known, or too far. Returns true when it entered the k nearest. */
  private consider(contact: Contact): boolean {
    if (!validContact(contact)) {
      this.malformed++;
      return false;
    }
    if (this.o.self !== undefined && sameId(contact.id, this.o.self)) return false;
    const position = this.o.positions.of(contact.id);
    const list = this.candidates;
    // Binary search for the insertion point; an equal position is the same node.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = compareDistance(list[mid].position, position, this.o.target);
      if (c === 0) return false;
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= this.maxCandidates) return false;
    list.splice(lo, 0, { contact, position, state: PENDING, slow: false });
    if (list.length > this.maxCandidates) {
      const dropped = list.pop()!;
      this.controllers.get(dropped)?.abort();
    }
    return lo < this.k;
  }

  /** Launches queries while slots are free; ends the lookup when the stopping rule holds. */
  private pump(): void {
    if (this.done) return;
    const parallelism = this.sinceProgress >= this.stallAnswers || this.nearestAnswered() ? this.k : this.alpha;
    let considered = 0;
    let allAnswered = true;
    for (const candidate of this.candidates) {
      if (considered >= this.k) break;
      if (candidate.state === FAILED) continue;
      considered++;
      if (candidate.state === ANSWERED) continue;
      allAnswered = false;
      if (candidate.state === INFLIGHT) continue;
      if (this.active < parallelism && this.queries < this.maxQueries) this.launch(candidate);
    }
    if (allAnswered) return this.finish(considered === 0 ? 'exhausted' : 'converged');
    // Nothing in flight anywhere means nothing can change any more.
    if (this.controllers.size === 0) return this.finish(this.queries >= this.maxQueries ? 'query-cap' : 'exhausted');
  }

  /**
   * True when the nearest live candidate has answered: it knew nobody closer, so (its deep
   * buckets holding its whole neighbourhood) the k nearest are in hand and only need asking.
   */
  private nearestAnswered(): boolean {
    if (this.eagerCount === 0) return false;
    let seen = 0;
    for (const candidate of this.candidates) {
      if (candidate.state === FAILED) continue;
      if (candidate.state === ANSWERED) return true;
      if (++seen >= this.eagerCount) return false;
    }
    return false;
  }

  private launch(candidate: Candidate): void {
    candidate.state = INFLIGHT;
    this.queries++;
    this.active++;
    const controller = new AbortController();
    this.controllers.set(candidate, controller);
    const sentAt = this.o.clock.now();
    const expected = this.o.rtt?.(candidate.contact) ?? this.rttEstimate ?? this.o.defaultRttMs ?? 500;
    const softMs = Math.max(2 * expected, 50);
    const hardMs = Math.min(this.o.maxQueryTimeoutMs ?? 3000, Math.max(softMs * 2.5, 250));
    const soft = this.o.clock.setTimeout(() => {
      this.timers.delete(soft);
      if (candidate.state !== INFLIGHT || candidate.slow) return;
      candidate.slow = true;
      this.active--;
      this.pump();
    }, softMs);
    const hard = this.o.clock.setTimeout(() => {
      this.timers.delete(hard);
      controller.abort();
    }, hardMs);
    this.timers.add(soft);
    this.timers.add(hard);
    const settle = () => {
      this.o.clock.clearTimeout(soft);
      this.o.clock.clearTimeout(hard);
      this.timers.delete(soft);
      this.timers.delete(hard);
      this.controllers.delete(candidate);
      if (!candidate.slow) this.active--;
    };
    let promise: Promise<A>;
    try {
      promise = this.o.query(candidate.contact, controller.signal);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- whatever query() threw, unchanged
      promise = Promise.reject(error);
    }
    promise.then(
      (answer) => {
        settle();
        if (this.done) return;
        this.onAnswer(candidate, answer, this.o.clock.now() - sentAt);
      },
      () => {
        settle();
        if (this.done) return;
        candidate.state = FAILED;
        this.o.onFailure?.(candidate.contact);
        this.pump();
      },
    );
  }

  private onAnswer(candidate: Candidate, answer: A, rttMs: number): void {
    candidate.state = ANSWERED;
    this.answers++;
    this.rttEstimate = this.rttEstimate === undefined ? rttMs : 0.75 * this.rttEstimate + 0.25 * rttMs;
    this.o.onRtt?.(candidate.contact, rttMs);
    if (answer !== null && typeof answer === 'object' && answer.token instanceof Uint8Array) candidate.token = answer.token;
    let closer = false;
    const contacts = answer !== null && typeof answer === 'object' && Array.isArray(answer.contacts) ? answer.contacts : [];
    // A peer's answer counts for at most k contacts: more is either a bug or an attack.
    const limit = Math.min(contacts.length, this.k);
    for (let i = 0; i < limit; i++) if (this.consider(contacts[i])) closer = true;
    this.malformed += contacts.length - limit;
    // Progress = the k nearest changed. A round without progress means the neighbourhood is
    // found: the rest of the k nearest are then queried at once.
    this.sinceProgress = closer ? 0 : this.sinceProgress + 1;
    let stop = false;
    try {
      stop = this.o.onAnswer?.(candidate.contact, answer) === true;
    } catch {
      stop = false;
    }
    if (stop) return this.finish('stopped');
    this.pump();
  }

  private cleanup(): void {
    this.done = true;
    this.o.signal?.removeEventListener('abort', this.onAbort);
    if (this.capTimer !== undefined) this.o.clock.clearTimeout(this.capTimer);
    for (const timer of this.timers) this.o.clock.clearTimeout(timer);
    this.timers.clear();
    for (const controller of this.controllers.values()) controller.abort();
    this.controllers.clear();
  }

  private finish(end: LookupEnd): void {
    if (this.done) return;
    this.cleanup();
    const closest: LookupHit[] = [];
    for (const candidate of this.candidates) {
      if (closest.length >= this.k) break;
      if (candidate.state !== ANSWERED) continue;
      const hit: LookupHit = { contact: candidate.contact, position: candidate.position };
      if (candidate.token !== undefined) hit.token = candidate.token;
      closest.push(hit);
    }
    this.resolve({
      closest,
      queries: this.queries,
      answers: this.answers,
      malformed: this.malformed,
      durationMs: this.o.clock.now() - this.started,
      end,
    });
  }

  private fail(error: unknown): void {
    if (this.done) return;
    this.cleanup();
    this.reject(error);
  }
}

/** Shape check of a contact from an untrusted answer. */
export function validContact(contact: unknown): contact is Contact {
  if (contact === null || typeof contact !== 'object') return false;
  const { id, address } = contact as Contact;
  if (!isId(id) || address === null || typeof address !== 'object') return false;
  return (
    typeof address.host === 'string' &&
    address.host.length > 0 &&
    address.host.length <= 255 &&
    Number.isInteger(address.port) &&
    address.port > 0 &&
    address.port <= 65535
  );
}
