/**
 * Both ends of the identify probe (identify.ts has the wire format): the asking side keeps
 * one waiter per nonce until the answer, a timeout or an abort; the answering side tells
 * its node ID to whoever asks, within a per-source budget (the answer is cleartext and
 * unauthenticated, so it costs nothing but a datagram, and the budget keeps that small).
 */
import type { Address } from '../util/address.js';
import { budgetSource, formatAddress } from '../util/address.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { CryptoSuite } from '../crypto/types.js';
import type { Stats } from '../util/stats.js';
import { RateLimiter } from '../util/rate-limiter.js';
import { MccError } from '../errors.js';
import { bytesToHex } from '../util/bytes.js';
import { DEFAULT_RTO_LIMITS } from '../util/rtt.js';
import { encodeIdentifyRequest, encodeIdentifyResponse, parseIdentifyRequest, parseIdentifyResponse } from './identify.js';

/** What the probes need from the session layer. */
export interface IdentifyProbesOptions {
  suite: CryptoSuite;
  clock: Clock;
  stats: Stats;
  /** Our node ID, told to whoever asks. */
  nodeId: Uint8Array;
  /** Sends a datagram as is (counted by the session layer). */
  transmit: (to: Address, data: Uint8Array) => void;
}

interface Waiter {
  resolve: (id: Uint8Array) => void;
  reject: (error: Error) => void;
}

/** Identify probes sent by this node and answers to other nodes' probes. */
export class IdentifyProbes {
  private readonly pending = new Map<string, Waiter>();
  /** Answers per source IP (per port on loopback, see budgetSource): 20/s, burst 40. */
  private readonly limiter: RateLimiter;

  constructor(private readonly options: IdentifyProbesOptions) {
    this.limiter = new RateLimiter(options.clock, { ratePerSecond: 20, burst: 40 });
  }

  /**
   * Asks `address` for its node ID; resolves with the claimed ID (see identify.ts for why it is
   * not trusted yet). The probe is sent again after the initial RTO, doubling each time, until
   * `timeoutMs`: one lost or budget-dropped datagram costs a second, not the whole timeout.
   */
  identify(address: Address, timeoutMs: number, signal?: AbortSignal): Promise<Uint8Array> {
    const nonce = this.options.suite.randomBytes(8);
    const key = bytesToHex(nonce);
    const request = encodeIdentifyRequest(nonce);
    return new Promise<Uint8Array>((resolve, reject) => {
      let resend: TimerHandle | undefined;
      let waitMs = DEFAULT_RTO_LIMITS.initialRtoMs;
      const sendAgainLater = (): void => {
        resend = this.options.clock.setTimeout(() => {
          this.options.transmit(address, request);
          waitMs *= 2;
          sendAgainLater();
        }, waitMs);
      };
      const cleanup = (): void => {
        this.pending.delete(key);
        this.options.clock.clearTimeout(timer);
        this.options.clock.clearTimeout(resend);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        cleanup();
        reject(new MccError('ERR_ABORTED', 'identify aborted', { cause: signal?.reason }));
      };
      const timer = this.options.clock.setTimeout(() => {
        cleanup();
        reject(new MccError('ERR_TIMEOUT', `no answer from ${formatAddress(address)} within ${timeoutMs} ms`));
      }, timeoutMs);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(key, {
        resolve: (id) => {
          cleanup();
          resolve(id);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      });
      this.options.transmit(address, request);
      sendAgainLater();
    });
  }

  /** Answers another node's probe with our ID. */
  receiveRequest(data: Uint8Array, from: Address): void {
    const { stats } = this.options;
    const nonce = parseIdentifyRequest(data);
    if (!nonce) return stats.drop('malformed');
    if (!this.limiter.take(budgetSource(from))) {
      stats.rateLimited.identify++;
      return stats.drop('rate-limited');
    }
    this.options.transmit(from, encodeIdentifyResponse(nonce, this.options.nodeId));
  }

  /** Settles the probe an answer belongs to. */
  receiveResponse(data: Uint8Array): void {
    const parsed = parseIdentifyResponse(data);
    if (!parsed) return this.options.stats.drop('malformed');
    const waiter = this.pending.get(bytesToHex(parsed.nonce));
    if (!waiter) return this.options.stats.drop('unexpected');
    waiter.resolve(parsed.nodeId);
  }

  /** Rejects every pending probe with ERR_STOPPED. */
  close(): void {
    for (const waiter of [...this.pending.values()]) waiter.reject(new MccError('ERR_STOPPED', 'node stopped'));
    this.pending.clear();
  }
}
