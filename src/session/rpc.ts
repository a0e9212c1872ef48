/**
 * Request/response over sealed sessions: request ids, per-peer RTT estimation
 * (RFC 6298), per-attempt timeouts with exponential backoff, cookie retries for
 * anti-amplification, AbortSignal, and dispatch of inbound requests by body type.
 */
import type { Clock } from '../util/clock.js';
import type { Stats } from '../util/stats.js';
import { IdleLruMap } from '../util/idle-lru.js';
import { MccError, invalidArgument, type MccErrorCode } from '../errors.js';
import { RemoteErrorCode } from '../wire/registry.js';
import { formatAddress } from '../util/address.js';
import { envelopeBodyKind as bodyKind, type Envelope, type EnvelopeBodyKind } from '../wire/codec.js';
import { withHeader, type InboundMessage, type SessionLayer, type SessionPeer } from './session.js';
import { DEFAULT_RTO_LIMITS, RttEstimator } from '../util/rtt.js';
import { bytesToHex, equalBytes } from '../util/bytes.js';
import { DeadlineQueue } from './deadline-queue.js';
import { PROTOCOL_VERSION } from '../wire/constants.js';
import { RequestBudget } from './request-budget.js';

/** Options of one request. */
export interface RequestOptions {
  /** Cancels the request; it rejects with ERR_ABORTED. */
  signal?: AbortSignal | undefined;
  /**
   * Upper bound across all attempts (default 4000 ms). The request fails at this deadline or
   * once its last attempt's wait (the peer's RTO, doubled per attempt) ran out, whichever
   * comes first: a dead peer costs ~7 RTOs, not the whole budget. Raise `retries` for a peer
   * that may stall longer.
   */
  timeoutMs?: number | undefined;
  /** Retransmissions after the first attempt. Default 2. */
  retries?: number | undefined;
  /**
   * How many of this peer's round trips the answer needs (default 1): more when the peer
   * must hear from a third party before it answers (a relay asking the target of a circuit).
   * Each attempt waits this multiple of the peer's RTO; when more than 1, the answer gives
   * no RTT sample (its time is not this peer's round trip).
   */
  rttFactor?: number | undefined;
}

/** Answers one request: an envelope body to send back, or undefined to stay silent. */
export type RequestHandler = (request: InboundMessage) => Envelope | undefined | Promise<Envelope | undefined>;

/** Options of the {@link RpcLayer}. */
export interface RpcOptions {
  defaultTimeoutMs?: number;
  defaultRetries?: number;
  /** Concurrent outstanding requests; more reject with ERR_LIMIT. Default 4096. */
  maxPending?: number;
  /** Per-source budget charged by every inbound request before its handler runs; `false` for none. Default: a {@link RequestBudget} with its defaults. */
  requestBudget?: RequestBudget | false;
}

interface Pending {
  rid: number;
  to: SessionPeer;
  /** Hex of `to.id`, computed once (RTT estimator and session keys look it up). */
  toHex: string;
  body: Envelope;
  sentAt: number;
  /** True once a retransmission went out: the next answer gives no RTT sample (Karn). */
  ambiguous: boolean;
  cookieRetried: boolean;
  attempts: number;
  maxAttempts: number;
  /** RequestOptions.rttFactor. */
  rttFactor: number;
  deadline: number;
  /** When the current attempt times out (owned by the DeadlineQueue; -1 when not waiting). */
  due: number;
  resolve: (message: InboundMessage) => void;
  reject: (error: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** Error codes carried in `Error` answers. */
// A peer's "invalid argument" becomes ERR_PEER locally: ERR_INVALID_ARGUMENT means *our caller*
// passed something wrong, and a remote must not be able to make a valid call look like that.
const REMOTE_ERROR_CODES: Record<number, MccErrorCode> = {
  [RemoteErrorCode.Internal]: 'ERR_PEER',
  [RemoteErrorCode.InvalidArgument]: 'ERR_PEER',
  [RemoteErrorCode.Limit]: 'ERR_LIMIT',
  [RemoteErrorCode.NotFound]: 'ERR_NOT_FOUND',
};
const LOCAL_ERROR_CODES: Partial<Record<MccErrorCode, RemoteErrorCode>> = {
  ERR_INVALID_ARGUMENT: RemoteErrorCode.InvalidArgument,
  ERR_LIMIT: RemoteErrorCode.Limit,
  ERR_NOT_FOUND: RemoteErrorCode.NotFound,
};

/** The error answer for an exception a request handler threw. */
function errorAnswer(error: unknown): Envelope {
  // Only our own typed errors travel; anything else may carry internals, so it goes as a bare code.
  const typed = error instanceof MccError ? error : undefined;
  const code = typed ? (LOCAL_ERROR_CODES[typed.code] ?? RemoteErrorCode.Internal) : RemoteErrorCode.Internal;
  return { error: { code, message: typed ? typed.message.slice(0, 200) : 'internal error' } };
}

/** The RPC layer of one node. */
export class RpcLayer {
  private readonly pending = new Map<number, Pending>();
  /** Every pending request's attempt deadline, on one clock timer. */
  private readonly deadlines: DeadlineQueue<Pending>;
  /** RTT state per peer; a peer idle for 10 minutes (its path may have changed) starts again from the initial RTO. */
  private readonly rtts: IdleLruMap<string, RttEstimator>;
  private readonly handlers = new Map<EnvelopeBodyKind, RequestHandler>();
  private ridPool: number[] = [];
  private closed = false;
  private readonly defaultTimeoutMs: number;
  private readonly defaultRetries: number;
  private readonly maxPending: number;
  private readonly budget: RequestBudget | undefined;

  constructor(
    private readonly session: SessionLayer,
    private readonly clock: Clock,
    private readonly stats: Stats,
    options: RpcOptions = {},
  ) {
    this.rtts = new IdleLruMap(10_000, { idleMs: 10 * 60_000, now: () => clock.now() });
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 4000;
    this.defaultRetries = options.defaultRetries ?? 2;
    this.maxPending = options.maxPending ?? 4096;
    this.budget = options.requestBudget === false ? undefined : (options.requestBudget ?? new RequestBudget(clock));
    this.deadlines = new DeadlineQueue<Pending>(clock, (entry) => this.onTimeout(entry));
  }

  /** Registers the handler of inbound requests whose body is `kind`. */
  handle(kind: EnvelopeBodyKind, handler: RequestHandler): void {
    this.handlers.set(kind, handler);
  }

  /** The handler registered for `kind`, if any (consortium mode wraps some in its policy check). */
  handlerOf(kind: EnvelopeBodyKind): RequestHandler | undefined {
    return this.handlers.get(kind);
  }

  /** Smoothed RTT to a peer in ms, when measured. */
  rtt(peerId: Uint8Array): number | undefined {
    return this.rtts.peek(bytesToHex(peerId))?.srtt;
  }

  /** Retransmission timeout for a peer (initial RTO when unmeasured). */
  rto(peerId: Uint8Array): number {
    return this.rtoOf(bytesToHex(peerId));
  }

  /** {@link RpcLayer.rto} keyed by hex ID; peeks so that asking does not refresh the peer's place in the LRU. */
  private rtoOf(peerHex: string): number {
    return this.rtts.peek(peerHex)?.rto() ?? DEFAULT_RTO_LIMITS.initialRtoMs;
  }

  /** Sends a request and resolves with the authenticated answer. */
  request(to: SessionPeer, body: Envelope, options: RequestOptions = {}): Promise<InboundMessage> {
    if (options.timeoutMs !== undefined && !(options.timeoutMs > 0))
      return Promise.reject(invalidArgument('timeoutMs', 'expected a positive number of milliseconds'));
    if (options.retries !== undefined && !(Number.isInteger(options.retries) && options.retries >= 0))
      return Promise.reject(invalidArgument('retries', 'expected an integer >= 0'));
    if (options.rttFactor !== undefined && !(options.rttFactor >= 1 && options.rttFactor <= 16))
      return Promise.reject(invalidArgument('rttFactor', 'expected a number 1..16'));
    if (this.closed) return Promise.reject(new MccError('ERR_STOPPED', 'node is stopped'));
    if (options.signal?.aborted) return Promise.reject(new MccError('ERR_ABORTED', 'request aborted', { cause: options.signal.reason }));
    if (this.pending.size >= this.maxPending) return Promise.reject(new MccError('ERR_LIMIT', `more than ${this.maxPending} requests outstanding`));
    const rid = this.allocateRid();
    const now = this.clock.now();
    return new Promise<InboundMessage>((resolve, reject) => {
      const entry: Pending = {
        rid,
        to,
        toHex: bytesToHex(to.id),
        body,
        sentAt: now,
        ambiguous: false,
        cookieRetried: false,
        attempts: 0,
        maxAttempts: 1 + (options.retries ?? this.defaultRetries),
        rttFactor: options.rttFactor ?? 1,
        deadline: now + (options.timeoutMs ?? this.defaultTimeoutMs),
        due: -1,
        resolve,
        reject,
        signal: options.signal,
        onAbort: undefined,
      };
      if (options.signal) {
        entry.onAbort = () => this.finish(entry, new MccError('ERR_ABORTED', 'request aborted', { cause: options.signal?.reason }));
        options.signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.pending.set(rid, entry);
      this.transmit(entry);
    });
  }

  /** Rejects every pending request with ERR_STOPPED. */
  close(): void {
    this.closed = true;
    for (const entry of [...this.pending.values()]) this.finish(entry, new MccError('ERR_STOPPED', 'node stopped'));
    this.deadlines.close();
  }

  /**
   * Request IDs are random, not sequential: a peer that could predict the next one could
   * forge an answer "from" an address we contacted and make us treat it as validated.
   */
  private allocateRid(): number {
    let rid: number;
    do {
      if (this.ridPool.length === 0) this.ridPool = Array.from(crypto.getRandomValues(new Uint32Array(64)));
      rid = this.ridPool.pop()!;
    } while (rid === 0 || this.pending.has(rid));
    return rid;
  }

  private transmit(entry: Pending, countAsRetransmit = true): void {
    const now = this.clock.now();
    entry.attempts++;
    if (entry.attempts > 1) {
      entry.ambiguous = true;
      if (countAsRetransmit) this.stats.rpc.retransmits++;
    }
    entry.sentAt = now;
    this.stats.rpc.sent++;
    try {
      // A fresh envelope per attempt, handed over to the session layer (it writes version and token into it: no second copy).
      const outgoing = withHeader(entry.body);
      outgoing.rid = entry.rid;
      outgoing.response = false;
      outgoing.version = PROTOCOL_VERSION;
      this.session.sendOwned(entry.to, outgoing, entry.toHex);
    } catch (error) {
      // Too large, or a peer key that is no curve point: fail this request, keep the slot free.
      this.finish(entry, error instanceof MccError ? error : new MccError('ERR_PEER', 'request could not be sent', { cause: error }));
      return;
    }
    // Exponential backoff from the peer's RTO, never past the overall deadline.
    const wait = Math.min(this.rtoOf(entry.toHex) * entry.rttFactor * 2 ** (entry.attempts - 1), entry.deadline - now);
    this.deadlines.schedule(entry, now + Math.max(1, wait));
  }

  private onTimeout(entry: Pending): void {
    if (!this.pending.has(entry.rid)) return;
    // The token we hold for this peer may have expired: retry as a padded first contact.
    this.session.forgetToken(entry.to);
    if (entry.attempts < entry.maxAttempts && this.clock.now() < entry.deadline) return this.transmit(entry);
    this.stats.rpc.timeouts++;
    this.finish(entry, new MccError('ERR_TIMEOUT', `no answer from ${formatAddress(entry.to.address)} after ${entry.attempts} attempt(s)`));
  }

  private finish(entry: Pending, outcome: Error | InboundMessage): void {
    if (this.pending.get(entry.rid) !== entry) return;
    this.pending.delete(entry.rid);
    this.deadlines.cancel(entry);
    if (entry.onAbort) entry.signal?.removeEventListener('abort', entry.onAbort);
    if (outcome instanceof Error) entry.reject(outcome);
    else entry.resolve(outcome);
  }

  /** Feeds one authenticated inbound message (the node routes every session message here). */
  receive(message: InboundMessage): void {
    if (message.envelope.response) this.receiveResponse(message);
    else this.receiveRequest(message);
  }

  private receiveResponse(message: InboundMessage): void {
    const entry = this.pending.get(message.envelope.rid ?? 0);
    if (!entry || !equalBytes(entry.to.id, message.from.id)) return this.stats.drop('unexpected');
    const kind = bodyKind(message.envelope);
    if (kind === 'cookie') {
      // The session layer stored the token; resend at once, outside the attempt budget, once.
      if (entry.cookieRetried) return this.stats.drop('unexpected');
      entry.cookieRetried = true;
      entry.attempts--;
      entry.ambiguous = false; // the cookie proved the first datagram arrived: the resend times cleanly
      return this.transmit(entry, false);
    }
    if (entry.to.address.host === message.from.address.host && entry.to.address.port === message.from.address.port) {
      this.session.markValidated(message.from, message.fromHex);
    }
    if (!entry.ambiguous && entry.rttFactor === 1) this.estimator(message.fromHex).sample(this.clock.now() - entry.sentAt);
    this.stats.rpc.answered++;
    if (kind === 'error') {
      const remote = message.envelope.error!;
      const code = REMOTE_ERROR_CODES[remote.code ?? 1] ?? 'ERR_PEER';
      return this.finish(entry, new MccError(code, `peer answered with an error: ${remote.message ?? ''}`, { details: { remoteCode: remote.code ?? 1 } }));
    }
    this.finish(entry, message);
  }

  private receiveRequest(message: InboundMessage): void {
    const kind = bodyKind(message.envelope);
    const handler = kind ? this.handlers.get(kind) : undefined;
    if (!handler) return this.stats.drop('unexpected');
    // Charged after the handler lookup, so requests nobody handles stay 'unexpected' and cost no budget.
    const refused = this.budget?.admit(message.from.address);
    if (refused !== undefined) {
      if (refused === 'address') this.stats.rateLimited.requestAddress++;
      else this.stats.rateLimited.requestNetwork++;
      return this.stats.drop('rate-limited');
    }
    let answer: Envelope | undefined | Promise<Envelope | undefined>;
    try {
      answer = handler(message);
    } catch (error) {
      return this.answer(message, errorAnswer(error));
    }
    // Most handlers (ping, FIND_NODE, FIND_VALUE, STORE) answer at once: those cost no promise
    // and no microtask per request; only a handler that returns a promise is waited for.
    if (typeof (answer as PromiseLike<unknown> | undefined)?.then === 'function') {
      Promise.resolve(answer).then(
        (value) => this.answer(message, value),
        (error: unknown) => this.answer(message, errorAnswer(error)),
      );
    } else this.answer(message, answer as Envelope | undefined);
  }

  private answer(message: InboundMessage, answer: Envelope | undefined): void {
    if (!answer || this.closed) return;
    try {
      this.session.reply(message, answer);
    } catch {
      // An answer that cannot be sealed (too large) must not take the process down.
      this.stats.rpc.failedReplies++;
    }
  }

  private estimator(peerHex: string): RttEstimator {
    let estimator = this.rtts.get(peerHex);
    if (!estimator) {
      estimator = new RttEstimator();
      this.rtts.set(peerHex, estimator);
    }
    return estimator;
  }
}
