/**
 * Coordinated hole punching over a relay circuit.
 *
 * Rendezvous: the initiator sends a HolepunchOffer (punch ID, punch key, its
 * candidate addresses, its mapping class, reachability) through the circuit, sealed
 * end to end — normally while the circuit is still being set up, so the offer rides
 * the set-up itself (relay-client.ts) and reaches the responder together with the news
 * of the circuit. The responder starts punching at once and answers with its own
 * offer. The initiator does not wait for that answer: it probes the addresses it
 * already knows (the peer's provider record) from the moment it sends the offer, so
 * its NAT is open towards the responder before the responder's first probes arrive —
 * for `earlyProbeRounds` only; on the answer it adds the responder's candidates and
 * strategy (and resumes probing if the window had closed). The first authenticated probe
 * (or probe answer) a side receives decides its working path: the socket it arrived on
 * and the address it came from.
 *
 * Every address is the peer's own claim, answer or not, so what a node sends to
 * addresses nobody confirmed is charged to its {@link PunchGuard} (holepunch-guard.ts):
 * main-socket probes per address, spray and birthday probes per host (free towards the
 * host the relay observed the peer at); probes the budgets refuse are skipped and counted.
 *
 * Strategy by mapping classes (hyperdht's idea, bounded):
 * - consistent/public on both sides: every `probeIntervalMs`, a probe from the main
 *   socket to each candidate address of the other side (simultaneous open).
 * - our side random, theirs consistent and not reachable: "birthday" — open up to
 *   `birthdaySockets` extra sockets, each sends a probe to their address, so our NAT
 *   holds that many mappings open towards them (one probe per socket is the strategy:
 *   charged to the target host's bulk budget; fewer sockets when it is low); they meanwhile
 * - spray (their side random, ours consistent and not reachable): a probe every
 *   `sprayIntervalMs` to a random port of their IP, at most `maxSprayProbes`. A spray
 *   that hits one of the open mappings is answered from that birthday socket.
 *   With 256 sockets and 2000 probes over 64 512 ports the hit chance is ~1-(1-256/64512)^2000 ≈ 99.96 %.
 * - random on both sides (neither reachable): no attempt; the relay stays.
 * Every attempt ends after `timeoutMs`; the caller then keeps the relayed path.
 */
import { EventEmitter } from 'eventemitter3';
import type { Address } from '../util/address.js';
import type { TimerHandle } from '../util/clock.js';
import type { Transport } from '../transport/types.js';
import { bytesToHex } from '../util/bytes.js';
import { MccError } from '../errors.js';
import type { InboundMessage } from '../session/session.js';
import type { Envelope } from '../wire/codec.js';
import { PROBE_ACK, PROBE_FROM_INITIATOR, encodeProbe, verifyProbe } from './holepunch-probe.js';
import { MAX_OFFER_ADDRESSES, offerOf, parseOffer } from './holepunch-offer.js';
import { CIRCUIT_ID_SIZE, isVirtualAddress, relayedIdHex } from './relay-packet.js';
import type { RelayTransport } from './relay-transport.js';
import type { NatContext, NatPeer, SocketFactory } from './types.js';
import { holePunchLimits, type HolePunchLimits, type HolePunchOptions } from './holepunch-options.js';
import { PunchGuard, type ObservedCircuit } from './holepunch-guard.js';
import type { HolePuncherEvents, LocalNatInfo, PunchResult, RemoteNatInfo } from './holepunch-types.js';

/** Spray probes one timer tick may send to catch up with the clock. */
const MAX_SPRAY_CATCH_UP = 16;

export type { HolePunchOptions } from './holepunch-options.js';
export type { HolePuncherEvents, LocalNatInfo, PunchResult } from './holepunch-types.js';

/** Extra sockets opened at once by the birthday strategy. */
const BIRTHDAY_BATCH = 32;

/** One punch attempt, either role. */
class Attempt {
  readonly idHex: string;
  probesSent = 0;
  probesSuppressed = 0;
  /** Main-socket probe rounds sent so far. */
  private rounds = 0;
  /** The next main-socket round, while one is scheduled. */
  private mainTimer: TimerHandle | undefined;
  private begun = false;
  private readonly started: number;
  private readonly timers: TimerHandle[] = [];
  private readonly sockets: Transport[] = [];
  private unclaim: () => void = () => {};
  private done = false;
  private configured = false;
  private sprays = 0;
  private timeout: TimerHandle | undefined;
  readonly result: Promise<PunchResult>;
  private settle!: (outcome: PunchResult | Error) => void;

  constructor(
    private readonly owner: HolePuncher,
    readonly peerHex: string,
    readonly id: Uint8Array,
    readonly key: Uint8Array,
    readonly initiator: boolean,
    /** The circuit's virtual address (the rendezvous), under which the relay's observation of the peer is kept. */
    private readonly virtual: Address,
    private readonly local: LocalNatInfo,
    private remote: RemoteNatInfo,
  ) {
    this.idHex = bytesToHex(id);
    this.started = owner.context.clock.now();
    this.result = new Promise((resolve, reject) => {
      this.settle = (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome));
    });
    this.result.catch(() => {}); // a responder's attempt may have no awaiting caller
  }

  /**
   * Starts probing what we know of the other side (main socket, every `probeIntervalMs`).
   * The initiator calls it before the rendezvous answer with the addresses from the peer's
   * record: its probes open its own NAT towards the peer, so the peer's first probes pass.
   */
  begin(): void {
    if (this.done) return;
    this.begun = true;
    this.unclaim = this.owner.transport.claim(this.idHex, (data, from) => this.receive(data, from, undefined));
    this.restartTimeout();
    this.probeMain();
  }

  /**
   * One round of main-socket probes, the next one scheduled while the round budget allows:
   * `2 * timeoutMs / probeIntervalMs` in all (the rendezvous and the attempt each have
   * `timeoutMs`), and only `earlyProbeRounds` of them before the offer is known (configure()
   * resumes a paused loop). Early or not, a probe to an address that has not proved itself
   * is charged to the node's per-address budget, and skipped when that is spent.
   */
  private probeMain(): void {
    this.mainTimer = undefined;
    const o = this.owner.limits;
    const early = !this.configured;
    const rounds = Math.max(1, Math.floor((2 * o.timeoutMs) / o.probeIntervalMs));
    const limit = early ? Math.min(rounds, o.earlyProbeRounds) : rounds;
    if (this.done || this.rounds >= limit) return;
    for (const address of this.remote.addresses) {
      if (this.owner.guard.mayProbe(address)) this.send(undefined, address, 0);
      else this.suppress();
    }
    if (++this.rounds < limit) {
      this.mainTimer = this.owner.context.clock.setTimeout(() => this.probeMain(), o.probeIntervalMs);
      this.timers.push(this.mainTimer);
    }
  }

  private suppress(count = 1): void {
    this.probesSuppressed += count;
    this.owner.probesSuppressed += count;
  }

  /**
   * The other side's offer is known (the responder knows it from the start; the initiator
   * from the answer): its candidates join the probing and the strategy for the two mapping
   * classes starts; the attempt's own budget starts now. Main-socket probing resumes if
   * the early window had paused it: the peer has now answered (which vouches for nothing:
   * the node's budgets still apply). Spray and birthday aim at the host the relay saw the
   * peer at when it is known, else at the offer's, within the per-host bulk budget.
   */
  configure(remote: RemoteNatInfo): void {
    if (this.done || this.configured) return;
    this.configured = true;
    const o = this.owner.limits;
    const { clock } = this.owner.context;
    const addresses = [...remote.addresses];
    for (const known of this.remote.addresses) if (!addresses.some((a) => a.host === known.host && a.port === known.port)) addresses.push(known);
    this.remote = { ...remote, addresses };
    const localRandom = this.local.mapping === 'random' && this.local.reachable !== true;
    const remoteRandom = remote.mapping === 'random' && !remote.reachable;
    if (localRandom && remoteRandom) return this.fail('both sides have random mappings');
    this.restartTimeout();
    if (this.begun && this.mainTimer === undefined) this.probeMain();
    const vouched = this.owner.guard.vouchedHost(this.peerHex, this.virtual);
    if (localRandom && !remote.reachable && o.birthdaySockets > 0 && this.owner.openSocket) void this.openBirthdaySockets(vouched);
    if (remoteRandom && this.local.reachable !== true) {
      const hosts = vouched !== undefined ? [vouched] : [...new Set(remote.addresses.map((a) => a.host))];
      const started = clock.now();
      const spray = (): void => {
        if (this.done) return;
        // Timers slip on a busy host (a 2 ms timer firing every 10 ms sends a fifth of the
        // probes before the attempt times out, and the odds of a hit fall with them): send
        // what the clock says is due, a few per tick at most.
        const due = Math.min(o.maxSprayProbes, this.sprays + MAX_SPRAY_CATCH_UP, Math.floor((clock.now() - started) / o.sprayIntervalMs) + 1);
        for (; this.sprays < due; this.sprays++) {
          for (const host of hosts) {
            const to = { host, port: 1024 + Math.floor(o.random() * 64512) };
            if (this.owner.guard.bulkProbes(to, 1, vouched) === 1) this.send(undefined, to, 0);
            else this.suppress();
          }
        }
        if (this.sprays < o.maxSprayProbes) this.timers.push(clock.setTimeout(spray, o.sprayIntervalMs));
      };
      spray();
    }
  }

  private restartTimeout(): void {
    const { clock } = this.owner.context;
    clock.clearTimeout(this.timeout);
    this.timeout = clock.setTimeout(() => this.fail('timed out'), this.owner.limits.timeoutMs);
    this.timers.push(this.timeout);
  }

  /** Ends the attempt with a failure (idempotent). */
  fail(reason: string): void {
    if (this.done) return;
    this.finish(undefined);
    this.owner.emitFailure(this, reason);
    this.settle(new MccError('ERR_UNREACHABLE', `hole punch failed: ${reason}`));
  }

  private async openBirthdaySockets(vouched: string | undefined): Promise<void> {
    const target = this.remote.addresses.find((a) => a.host === vouched) ?? this.remote.addresses[0];
    if (!target) return;
    // Each socket's one probe is the strategy: a socket whose probe the budget refuses is not opened.
    const wanted = this.owner.limits.birthdaySockets;
    const allowed = this.owner.guard.bulkProbes(target, wanted, vouched);
    this.suppress(wanted - allowed);
    // Batches open in parallel: one at a time, a loaded host would spend the whole attempt on binds.
    for (let opened = 0; opened < allowed && !this.done; opened += BIRTHDAY_BATCH) {
      const count = Math.min(BIRTHDAY_BATCH, allowed - opened);
      const batch = await Promise.allSettled(Array.from({ length: count }, () => this.owner.openSocket!()));
      let failed = false;
      for (const outcome of batch) {
        if (outcome.status === 'rejected') {
          failed = true; // out of sockets: punch with what we have
          continue;
        }
        const socket = outcome.value;
        if (this.done) {
          void socket.close();
          continue;
        }
        this.sockets.push(socket);
        socket.onDatagram((data, from) => {
          if (relayedIdHex(data) === this.idHex) this.receive(data, from, socket);
        });
        this.send(socket, target, 0);
      }
      if (failed) return;
    }
  }

  private send(socket: Transport | undefined, to: Address, extraFlags: number): void {
    const flags = (this.initiator ? PROBE_FROM_INITIATOR : 0) | extraFlags;
    const probe = encodeProbe(this.owner.context.crypto, this.key, this.id, flags);
    this.probesSent++;
    if (socket) socket.send(to, probe);
    else this.owner.transport.sendDirect(to, probe);
  }

  private receive(data: Uint8Array, from: Address, socket: Transport | undefined): void {
    const flags = verifyProbe(this.owner.context.crypto, this.key, this.id, data);
    if (flags === null || ((flags & PROBE_FROM_INITIATOR) !== 0) === this.initiator) return;
    this.owner.guard.confirm(from); // it proved itself: probes (and this answer) to it are free
    if ((flags & PROBE_ACK) === 0) this.send(socket, from, PROBE_ACK); // answer even after we finished: the peer may not have
    if (this.done) return;
    const result: PunchResult = {
      peer: this.peerHex,
      address: { ...from },
      transport: socket,
      initiator: this.initiator,
      elapsedMs: this.owner.context.clock.now() - this.started,
      probesSent: this.probesSent,
      probesSuppressed: this.probesSuppressed,
    };
    this.finish(socket);
    this.owner.emitSuccess(result);
    this.settle(result);
  }

  /** Stops probing, closes the losing sockets; answers late probes for a while (linger). */
  private finish(winner: Transport | undefined): void {
    this.done = true;
    for (const timer of this.timers.splice(0)) this.owner.context.clock.clearTimeout(timer);
    for (const socket of this.sockets.splice(0)) if (socket !== winner) void socket.close();
    this.timers.push(this.owner.context.clock.setTimeout(() => this.release(), this.owner.limits.timeoutMs));
  }

  /** Frees the ID claim (and timers); called after the linger or on close. */
  release(): void {
    this.unclaim();
    for (const timer of this.timers.splice(0)) this.owner.context.clock.clearTimeout(timer);
    for (const socket of this.sockets.splice(0)) void socket.close();
    this.owner.forget(this);
  }
}

/** Runs hole punches for one node: the initiator API and the responder handler. */
export class HolePuncher extends EventEmitter<HolePuncherEvents> {
  /** @internal */ readonly limits: HolePunchLimits;
  /** @internal */ readonly openSocket: SocketFactory | undefined;
  /** @internal What may go to unconfirmed addresses, shared by all attempts (holepunch-guard.ts). */
  readonly guard: PunchGuard;
  /** Probes the budgets held back, all attempts together. */
  probesSuppressed = 0;
  private readonly attempts = new Map<string, Attempt>();

  /**
   * @param transport the node's relay-aware transport (probes go out and come in on it)
   * @param local what this node currently knows about its NAT (from the classifier)
   */
  constructor(
    /** @internal */ readonly context: NatContext,
    /** @internal */ readonly transport: RelayTransport,
    private readonly local: () => LocalNatInfo,
    options: HolePunchOptions = {},
  ) {
    super();
    this.limits = holePunchLimits(options);
    this.guard = new PunchGuard(context.clock, options.probeBudget, Math.max(this.limits.maxSprayProbes, this.limits.birthdaySockets));
    this.openSocket = options.openSocket;
    context.rpc.handle('holepunchOffer', (request) => this.onOffer(request));
  }

  /**
   * Notes where the relay of a circuit saw its peer (`RelayedConnection.peerObserved`, known
   * on the accepting side): a punch through that circuit then sprays (or aims its birthday
   * sockets) at that host only, free of the per-host bulk budget. Call it for every circuit
   * accepted (RelayClient's `incoming` event), before the offer that rides it is handled.
   */
  observe(circuit: ObservedCircuit): void {
    this.guard.observe(circuit);
  }

  /** Attempts in progress or lingering. */
  get active(): number {
    return this.attempts.size;
  }

  /**
   * Punches a direct path to `peer`, reached through a relay circuit (`peer.address` is its
   * virtual address; the circuit may still be being set up: the offer then rides the
   * set-up). The offer is sent before this returns its promise. `known` are addresses the
   * peer is known at (its provider record): probing them starts at once. Resolves with the
   * working path; rejects with ERR_UNREACHABLE when the punch fails (keep the relayed path).
   */
  punch(peer: NatPeer, options: { signal?: AbortSignal; known?: Address[] } = {}): Promise<PunchResult> {
    if (this.attempts.size >= this.limits.maxConcurrent) return Promise.reject(new MccError('ERR_LIMIT', 'too many hole punches at once'));
    if (options.signal?.aborted) return Promise.reject(new MccError('ERR_ABORTED', 'hole punch aborted', { cause: options.signal.reason }));
    const crypto = this.context.crypto;
    const id = crypto.randomBytes(CIRCUIT_ID_SIZE);
    const key = crypto.randomBytes(32);
    const local = this.local();
    const answer = this.context.rpc.request(peer, { holepunchOffer: offerOf(id, key, local) }, { signal: options.signal, timeoutMs: this.limits.timeoutMs });
    const known = (options.known ?? []).filter((a) => !isVirtualAddress(a) && a.port > 0).slice(0, MAX_OFFER_ADDRESSES);
    const attempt = new Attempt(this, bytesToHex(peer.id), id, key, true, peer.address, local, { addresses: known, mapping: 'unknown', reachable: false });
    this.attempts.set(attempt.idHex, attempt);
    const onAbort = (): void => attempt.fail('aborted');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    attempt.begin();
    answer.then(
      (message) => {
        const remote = parseOffer(message.envelope.holepunchOffer);
        if (!remote || bytesToHex(remote.id) !== attempt.idHex) attempt.fail('malformed hole-punch answer');
        else attempt.configure(remote);
      },
      (error: Error) => attempt.fail(`no rendezvous: ${error.message}`),
    );
    return attempt.result.finally(() => options.signal?.removeEventListener('abort', onAbort));
  }

  /** Ends every attempt and frees its sockets. */
  close(): void {
    for (const attempt of [...this.attempts.values()]) {
      attempt.fail('closed');
      attempt.release();
    }
  }

  /** @internal */ emitSuccess(result: PunchResult): void {
    this.emit('punched', result);
  }

  /** @internal */ emitFailure(attempt: Attempt, reason: string): void {
    if (!attempt.initiator) this.emit('failed', attempt.peerHex, reason);
  }

  /** @internal */ forget(attempt: Attempt): void {
    if (this.attempts.get(attempt.idHex) === attempt) this.attempts.delete(attempt.idHex);
  }

  private onOffer(request: InboundMessage): Envelope {
    const remote = parseOffer(request.envelope.holepunchOffer);
    if (!remote) throw new MccError('ERR_INVALID_ARGUMENT', 'malformed hole-punch offer');
    const idHex = bytesToHex(remote.id);
    const local = this.local();
    const answer = { holepunchOffer: offerOf(remote.id, remote.key, local) };
    if (this.attempts.has(idHex)) return answer; // a retransmitted offer: the attempt already runs
    if (this.attempts.size >= this.limits.maxConcurrent) throw new MccError('ERR_LIMIT', 'too many hole punches at once');
    const attempt = new Attempt(this, request.fromHex, remote.id, remote.key, false, request.from.address, local, remote);
    this.attempts.set(idHex, attempt);
    attempt.configure(remote); // first: the offer's addresses are confirmed, no early window
    attempt.begin();
    return answer;
  }
}
