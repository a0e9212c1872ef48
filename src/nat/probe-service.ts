/**
 * Unsolicited-packet probes: the dial-back (is this node reachable?) and the
 * delayed echo (does a NAT mapping survive this much idle time?).
 *
 * Dial-back, three nodes (A asks, H helps, T probes):
 *   A -> H  NatDialBackRequest{nonce, target = A's observed address, exclude = A's recent contacts}
 *   H -> T  NatDialBack{nonce, target, requester = A}        (T: neither A, H nor an excluded node)
 *   T -> A  NatProbe{nonce}  one-way, sealed for A, sent to target
 *   T -> H, H -> A  NatAck{ok}
 * If the probe reaches A, packets from a stranger reach A: A is reachable. H only
 * accepts a target equal to the address the request came from, so the service
 * cannot be aimed at a victim; T and H rate-limit per source.
 *
 * Delayed echo (keep-alive learning): A -> P NatEchoRequest{nonce, delay}; P acks, then
 * after `delay` sends NatProbe{nonce} to the address the request came from. If it
 * arrives, A's mapping towards P survived `delay` of silence.
 */
import type { Address } from '../util/address.js';
import { sameAddress } from '../util/address.js';
import { bytesToHex, equalBytes } from '../util/bytes.js';
import type { TimerHandle } from '../util/clock.js';
import { RateLimiter } from '../util/rate-limiter.js';
import { MccError } from '../errors.js';
import { fromSocketAddress, toSocketAddress } from '../wire/address.js';
import type { InboundMessage } from '../session/session.js';
import type { Envelope } from '../wire/codec.js';
import { isVirtualAddress } from './relay-packet.js';
import type { NatContext, NatPeer, NatSendOneWay } from './types.js';

/** Longest delay a node accepts in a NatEchoRequest. */
export const MAX_ECHO_DELAY_MS = 300_000;
const NONCE_SIZE = 16;
const MAX_EXCLUDE = 16;

/** Options of a {@link NatProbeService}. */
export interface NatProbeServiceOptions {
  /** Picks the third node for a dial-back, excluding the given IDs. Default: none (the helper role answers ok=false). */
  pickThirdParty?: (exclude: Uint8Array[]) => NatPeer | undefined;
  /**
   * True when our NAT holds a mapping towards `address` (we sent there lately): a
   * dial-back probe from there proves nothing, and the check counts as inconclusive.
   * Default: never.
   */
  mappedTowards?: (address: Address) => boolean;
  /** Most delayed echoes pending at once (all requesters). Default 64. */
  maxPendingEchoes?: number;
  /** Requests served per requester IP per second (burst twice that). Default 2. */
  perSourcePerSecond?: number;
}

/** Third nodes a helper tries per dial-back, and its budget for each (together within the requester's 3 s). */
const THIRD_PARTY_ATTEMPTS = 2;
const THIRD_PARTY_TIMEOUT_MS = 1200;

/** The sender of a probe that arrived. */
export interface ProbeArrival {
  from: NatPeer;
}

/** Serves and uses dial-backs and delayed echoes. One per node. */
export class NatProbeService {
  private readonly waiting = new Map<string, (arrival: ProbeArrival | undefined) => void>();
  private readonly echoes = new Set<TimerHandle>();
  private readonly limiter: RateLimiter;
  private readonly maxPendingEchoes: number;
  private pickThirdParty: (exclude: Uint8Array[]) => NatPeer | undefined;
  private readonly mappedTowards: (address: Address) => boolean;
  private closed = false;

  constructor(
    private readonly context: NatContext,
    private readonly sendOneWay: NatSendOneWay,
    options: NatProbeServiceOptions = {},
  ) {
    this.pickThirdParty = options.pickThirdParty ?? (() => undefined);
    this.mappedTowards = options.mappedTowards ?? (() => false);
    this.maxPendingEchoes = options.maxPendingEchoes ?? 64;
    const rate = options.perSourcePerSecond ?? 2;
    this.limiter = new RateLimiter(context.clock, { ratePerSecond: rate, burst: rate * 2 });
    context.rpc.handle('natDialBackRequest', (request) => this.onDialBackRequest(request));
    context.rpc.handle('natDialBack', (request) => this.onDialBack(request));
    context.rpc.handle('natEchoRequest', (request) => this.onEchoRequest(request));
    context.rpc.handle('natProbe', (message) => this.onProbe(message));
  }

  /** Replaces the third-party picker (the node wires its routing table in). */
  setThirdPartyPicker(pick: (exclude: Uint8Array[]) => NatPeer | undefined): void {
    this.pickThirdParty = pick;
  }

  /**
   * Asks `helper` to have a third node probe `target` (our observed address). Resolves
   * true when the probe arrived within `waitMs`, false when it did not, and undefined
   * when the helper could not run the test (no third node, refused, no answer) or the
   * probe came from an address our NAT holds a mapping towards (`mappedTowards`).
   * `exclude` names nodes we talked to lately: their packets would pass our NAT anyway.
   */
  async dialBack(helper: NatPeer, target: Address, waitMs: number, exclude: Uint8Array[] = []): Promise<boolean | undefined> {
    const nonce = this.context.crypto.randomBytes(NONCE_SIZE);
    const arrived = this.expect(nonce, waitMs);
    const request = { nonce, target: toSocketAddress(target), exclude: exclude.slice(0, MAX_EXCLUDE) };
    if (!(await this.askForProbe(helper, nonce, { natDialBackRequest: request }, waitMs))) return undefined;
    const arrival = await arrived;
    if (arrival === undefined) return false;
    return this.mappedTowards(arrival.from.address) ? undefined : true;
  }

  /** Asks `peer` to send us a probe after `delayMs` of silence; true when it arrived within `delayMs + waitMs`. */
  async echo(peer: NatPeer, delayMs: number, waitMs: number): Promise<boolean | undefined> {
    const nonce = this.context.crypto.randomBytes(NONCE_SIZE);
    const arrived = this.expect(nonce, delayMs + waitMs);
    if (!(await this.askForProbe(peer, nonce, { natEchoRequest: { nonce, delayMs } }, waitMs))) return undefined;
    return (await arrived) !== undefined;
  }

  /** Sends a probe request; false (and the expectation of `nonce` dropped) when it was not acknowledged. */
  private async askForProbe(peer: NatPeer, nonce: Uint8Array, body: Envelope, timeoutMs: number): Promise<boolean> {
    try {
      const answer = await this.context.rpc.request(peer, body, { timeoutMs });
      if (answer.envelope.natAck?.ok) return true;
    } catch {
      // no answer: same as a refusal
    }
    this.forget(nonce);
    return false;
  }

  /** Cancels pending echoes and waits. */
  close(): void {
    this.closed = true;
    for (const timer of this.echoes) this.context.clock.clearTimeout(timer);
    this.echoes.clear();
    for (const resolve of [...this.waiting.values()]) resolve(undefined);
    this.waiting.clear();
  }

  /** Waits up to `ms` for NatProbe{nonce}; resolves with its sender or undefined. */
  private expect(nonce: Uint8Array, ms: number): Promise<ProbeArrival | undefined> {
    const key = bytesToHex(nonce);
    return new Promise((resolve) => {
      const timer = this.context.clock.setTimeout(() => {
        this.waiting.delete(key);
        resolve(undefined);
      }, ms);
      this.waiting.set(key, (arrival) => {
        this.context.clock.clearTimeout(timer);
        this.waiting.delete(key);
        resolve(arrival);
      });
    });
  }

  private forget(nonce: Uint8Array): void {
    const key = bytesToHex(nonce);
    this.waiting.get(key)?.(undefined);
  }

  private checkSource(request: InboundMessage): void {
    if (this.closed) throw new MccError('ERR_STOPPED', 'stopped');
    if (isVirtualAddress(request.from.address)) throw new MccError('ERR_PEER', 'not through a relay');
    if (!this.limiter.take(request.from.address.host)) throw new MccError('ERR_LIMIT', 'too many probe requests');
  }

  private async onDialBackRequest(request: InboundMessage): Promise<Envelope> {
    this.checkSource(request);
    const body = request.envelope.natDialBackRequest;
    const target = fromSocketAddress(body?.target);
    if (!(body?.nonce instanceof Uint8Array) || body.nonce.length !== NONCE_SIZE || !target)
      throw new MccError('ERR_INVALID_ARGUMENT', 'malformed dial-back request');
    // Only the requester's own address: the probe must not be aimable at anyone else.
    if (!sameAddress(target, request.from.address)) throw new MccError('ERR_INVALID_ARGUMENT', 'target must be your address as I see it');
    const exclude = (body.exclude ?? []).slice(0, MAX_EXCLUDE).filter((id) => id instanceof Uint8Array && id.length === 32);
    // A third node may have gone away since we last heard from it: try another, within the requester's budget.
    const tried: Uint8Array[] = [];
    for (let attempt = 0; attempt < THIRD_PARTY_ATTEMPTS; attempt++) {
      const third = this.pickThirdParty([request.from.id, ...exclude, ...tried]);
      if (!third || equalBytes(third.id, request.from.id)) break;
      tried.push(third.id);
      try {
        const answer = await this.context.rpc.request(
          third,
          { natDialBack: { nonce: body.nonce, target: toSocketAddress(target), requester: request.from.id } },
          { timeoutMs: THIRD_PARTY_TIMEOUT_MS },
        );
        if (answer.envelope.natAck?.ok === true) return { natAck: { ok: true } };
      } catch {
        // next third party
      }
    }
    return { natAck: { ok: false } };
  }

  private onDialBack(request: InboundMessage): Envelope {
    this.checkSource(request);
    const body = request.envelope.natDialBack;
    const target = fromSocketAddress(body?.target);
    const requester = body?.requester;
    if (!(body?.nonce instanceof Uint8Array) || body.nonce.length !== NONCE_SIZE || !target || !(requester instanceof Uint8Array) || requester.length !== 32) {
      throw new MccError('ERR_INVALID_ARGUMENT', 'malformed dial-back');
    }
    if (isVirtualAddress(target) || !this.limiter.take(`target ${target.host}`)) throw new MccError('ERR_LIMIT', 'target probed too often');
    this.sendOneWay({ id: requester, address: target }, { natProbe: { nonce: body.nonce } });
    return { natAck: { ok: true } };
  }

  private onEchoRequest(request: InboundMessage): Envelope {
    this.checkSource(request);
    const body = request.envelope.natEchoRequest;
    const delay = body?.delayMs ?? 0;
    if (!(body?.nonce instanceof Uint8Array) || body.nonce.length !== NONCE_SIZE || !(delay >= 0 && delay <= MAX_ECHO_DELAY_MS)) {
      throw new MccError('ERR_INVALID_ARGUMENT', 'malformed echo request');
    }
    if (this.echoes.size >= this.maxPendingEchoes) return { natAck: { ok: false } };
    const to: NatPeer = { id: request.from.id, address: { ...request.from.address } };
    const nonce = body.nonce;
    const timer = this.context.clock.setTimeout(() => {
      this.echoes.delete(timer);
      if (!this.closed) this.sendOneWay(to, { natProbe: { nonce } });
    }, delay);
    this.echoes.add(timer);
    return { natAck: { ok: true } };
  }

  private onProbe(message: InboundMessage): undefined {
    const nonce = message.envelope.natProbe?.nonce;
    if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_SIZE) return undefined;
    this.waiting.get(bytesToHex(nonce))?.({ from: { id: message.from.id, address: message.from.address } });
    return undefined;
  }
}
