/**
 * One standing registration of this node as a provider of a service. It publishes a signed
 * provider record, republishes it (with a fresh seq and expiry) at a jittered 50-70% of
 * its TTL, retries with exponential back-off while the network is unreachable (which is
 * also how it re-registers when the network comes back), and ends with a signed withdrawal
 * whose higher seq makes every holder drop the live record at once.
 */
import { setMaxListeners } from 'node:events';
import { MccError, abortError } from '../errors.js';
import { signRecord } from '../kademlia/record.js';
import type { SignedRecord } from '../kademlia/types.js';
import { bytesToHex } from '../util/bytes.js';
import type { TimerHandle } from '../util/clock.js';
import { encodeMetadata, encodeProviderValue, type ServiceMetadata } from './provider-record.js';
import type { RegistrationContext } from './types.js';

/** First retry delay after a failed publish, ms. */
const RETRY_MIN_MS = 1_000;
/** Longest retry delay, ms (also bounded by a quarter of the TTL). */
const RETRY_MAX_MS = 30_000;
/** A publish that fewer nodes accepted (ourselves included) is retried on the back-off schedule. */
const MIN_STORED = 2;
/** A withdrawal outlives the record it replaces by this much, for clock skew between holders. */
const WITHDRAWAL_MARGIN_MS = 5_000;

/**
 * One DHT copy of a registration with a value transform: consortium mode publishes a
 * restricted service as one sealed copy per allowed organisation or node (src/consortium).
 */
export interface RecordCopy {
  /** DHT key of this copy. */
  key: Uint8Array;
  /** Turns the encoded provider value into what this copy stores. */
  seal(value: Uint8Array): Uint8Array;
}

/** Lifecycle of a {@link Registration}. */
export type RegistrationState = 'publishing' | 'published' | 'retrying' | 'withdrawn';

/** A service this node provides. Returned by `Discovery.register`. */
export class Registration {
  /** The DHT key of the service. */
  readonly key: Uint8Array;
  /** Current state: `retrying` means the last publish reached too few nodes and a retry is scheduled. */
  state: RegistrationState = 'publishing';
  /** Nodes that accepted the last successful publish. */
  stored = 0;
  /** The last record signed (live or withdrawal; the first copy's, for a restricted service). */
  lastRecord: SignedRecord | undefined;
  /** The last records signed, one per copy. */
  private lastRecords: SignedRecord[] = [];
  /** Where records go: the service key with the value as is, or the sealed copies of a restricted service. */
  private readonly copies: RecordCopy[];
  /** Why the last publish failed, if it did. */
  lastError: unknown;
  private metadataBytes: Uint8Array;
  private timer: TimerHandle | undefined;
  private failures = 0;
  private chain: Promise<void> = Promise.resolve();
  private inflight: AbortController | undefined;
  /** Latest expiry of any live record we signed: a withdrawal must outlive it. */
  private liveUntil = 0;
  private closing: Promise<void> | undefined;

  /** @internal Created by `Discovery.register`. */
  constructor(
    /** The service name. */
    readonly name: string,
    key: Uint8Array,
    private metadataValue: ServiceMetadata | undefined,
    /** Record lifetime, ms. */
    readonly ttlMs: number,
    private readonly context: RegistrationContext,
    copies?: RecordCopy[],
  ) {
    this.copies = copies !== undefined && copies.length > 0 ? copies : [{ key, seal: (value) => value }];
    this.key = this.copies[0].key;
    this.metadataBytes = encodeMetadata(metadataValue);
  }

  /** The metadata currently advertised. */
  get metadata(): ServiceMetadata | undefined {
    return this.metadataValue;
  }

  /** True once unregistered or stopped. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * @internal First publish. Resolves whether or not a node accepted it (a failure is retried
   * in the background; see {@link Registration.state}); rejects only when `signal` aborts it.
   */
  start(signal?: AbortSignal): Promise<void> {
    return this.enqueue(() => this.publishOnce(signal));
  }

  /**
   * Replaces the metadata and republishes at once with a higher seq.
   * @throws MccError `ERR_INVALID_ARGUMENT` on bad metadata, `ERR_STOPPED` after unregister.
   */
  async update(metadata: ServiceMetadata | undefined, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.closed) throw new MccError('ERR_STOPPED', `registration of "${this.name}" has ended`);
    if (options.signal?.aborted) throw abortError(options.signal);
    this.metadataBytes = encodeMetadata(metadata);
    this.metadataValue = metadata;
    await this.enqueue(() => this.publishOnce(options.signal));
  }

  /** Republishes now (e.g. after the node's addresses or relays changed, or the network came back). */
  refresh(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.enqueue(() => this.publishOnce());
  }

  /**
   * Stops republishing and publishes a signed withdrawal (higher seq), so lookups stop
   * returning this provider at once. Resolves after the first withdrawal attempt; if it
   * reached nobody it is retried in the background until the live record would have
   * expired anyway. Idempotent.
   */
  unregister(options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.close(true, options.signal);
  }

  /** @internal Ends the registration; without `withdraw` the record just expires (a crash, as far as others can tell). */
  close(withdraw: boolean, signal?: AbortSignal): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.cancelTimer();
    this.inflight?.abort(new MccError('ERR_STOPPED', 'registration ended'));
    this.state = 'withdrawn';
    this.failures = 0;
    this.closing = withdraw ? this.enqueue(() => this.withdrawOnce(signal)) : Promise.resolve();
    this.context.onClosed(this.name, bytesToHex(this.key));
    return this.closing;
  }

  /** @internal Cancels background retries of the withdrawal (Discovery.stop). */
  dispose(): void {
    this.cancelTimer();
    this.inflight?.abort(new MccError('ERR_STOPPED', 'registration ended'));
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(task);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async publishOnce(signal?: AbortSignal): Promise<void> {
    if (this.closed) return;
    this.cancelTimer();
    const { context } = this;
    if (this.state === 'retrying' && context.rejoin !== undefined) {
      await context.rejoin().catch(() => undefined);
      if (this.closed) return;
    }
    const now = context.wallClock();
    const self = context.selfInfo();
    const value = encodeProviderValue(self, this.metadataBytes);
    const seq = context.nextSeq();
    const expiresAt = Math.floor(now + this.ttlMs);
    const records = this.copies.map((copy) => signRecord(context.suite, context.keyPair, { key: copy.key, seq, expiresAt, value: copy.seal(value) }));
    this.lastRecords = records;
    this.lastRecord = records[0];
    this.liveUntil = Math.max(this.liveUntil, expiresAt);
    try {
      const result = await this.putWithAbort(records, signal);
      if (this.closed) return;
      this.stored = result.stored;
      this.lastError = undefined;
      if (result.stored >= MIN_STORED) {
        this.failures = 0;
        this.state = 'published';
        this.schedule(this.ttlMs * (0.5 + 0.2 * context.random()), () => this.publishOnce());
      } else {
        // Only this node kept it (offline, or alone): try again soon rather than at republish time.
        this.state = 'retrying';
        this.schedule(this.backoff(), () => this.publishOnce());
      }
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      if (this.closed) return;
      this.lastError = error;
      this.state = 'retrying';
      context.logger?.debug?.('provider record publish failed; retrying', { name: this.name, error: String(error) });
      this.schedule(this.backoff(), () => this.publishOnce());
    }
  }

  private async withdrawOnce(signal?: AbortSignal): Promise<void> {
    const { context } = this;
    const now = context.wallClock();
    // Nothing live can be replayed once every record we signed has expired.
    if (this.liveUntil <= now) return;
    let records = this.lastRecords;
    if (this.lastRecord?.withdrawn !== true) {
      const seq = context.nextSeq();
      const expiresAt = Math.floor(this.liveUntil + WITHDRAWAL_MARGIN_MS);
      records = this.copies.map((copy) =>
        signRecord(context.suite, context.keyPair, { key: copy.key, seq, expiresAt, value: new Uint8Array(0), withdrawn: true }),
      );
    }
    this.lastRecords = records;
    this.lastRecord = records[0];
    try {
      const result = await this.putWithAbort(records, signal);
      this.stored = result.stored;
      // Only this node kept it (a partition, say): the live record is still out there at its
      // holders, so the withdrawal must keep trying, exactly as if the put had failed.
      if (result.stored >= MIN_STORED) return;
    } catch (error) {
      this.lastError = error;
      if (signal?.aborted) return;
    }
    if (this.liveUntil <= context.wallClock()) return;
    this.schedule(
      this.backoff(),
      () => {
        this.enqueue(() => this.withdrawOnce()).catch(() => undefined);
      },
      true,
    );
  }

  /**
   * One put per copy, in parallel, abortable both by the caller's signal and by
   * {@link Registration.close}; `stored` is that of the copy that reached the fewest nodes.
   */
  private async putWithAbort(records: SignedRecord[], signal?: AbortSignal): Promise<{ stored: number }> {
    const own = new AbortController();
    // The DHT hangs one deadline per STORE target (k of them) on this signal.
    setMaxListeners(64, own.signal);
    this.inflight = own;
    const onAbort = () => own.abort(signal!.reason);
    if (signal?.aborted) own.abort(signal.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const results = await Promise.all(records.map((record) => this.context.dht.putRecord(record, { republish: false, signal: own.signal })));
      return { stored: Math.min(...results.map((result) => result.stored)) };
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (this.inflight === own) this.inflight = undefined;
    }
  }

  private backoff(): number {
    const cap = Math.max(RETRY_MIN_MS, Math.min(RETRY_MAX_MS, this.ttlMs / 4));
    const base = Math.min(cap, RETRY_MIN_MS * 2 ** this.failures);
    this.failures++;
    return base * (0.8 + 0.4 * this.context.random());
  }

  private schedule(ms: number, task: () => unknown, evenWhenClosed = false): void {
    this.cancelTimer();
    // A put that was in flight when Discovery.stop() ran settles afterwards: it must not
    // start a new retry (an unregistered registration is no longer in stop()'s reach).
    if (this.context.stopped.aborted) return;
    this.timer = this.context.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.closed && !evenWhenClosed) return;
      if (evenWhenClosed) task();
      else this.enqueue(task as () => Promise<void>).catch(() => undefined);
    }, ms);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.context.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
