/**
 * The client side of relaying.
 *
 * An unreachable node keeps reservations with at least `minRelays` relays (chosen
 * from the reachable candidates it is given), refreshes each one at half its
 * lifetime, replaces relays that stop answering, and lists the live ones
 * ({@link RelayClient.relays}) for its provider records. The periodic refresh also
 * keeps the NAT mapping towards each relay open (together with keepalive.ts).
 *
 * Any node can open a circuit to a reserved node through one of its relays
 * ({@link RelayClient.open}, {@link RelayClient.connect}); the reserved node accepts
 * circuits the relay announces (`RelayIncoming`). Both ends register the circuit in their
 * {@link RelayTransport} and from then on address each other by the circuit's
 * virtual address: sealed session and tunnel datagrams flow through the relay unread.
 *
 * The initiator names the circuit itself, so its virtual address works before the relay
 * answers: what it sends there first (a tunnel handshake, a hole-punch offer) rides the
 * set-up (`RelayConnect.early` -> `RelayIncoming.early`) and reaches the target together with
 * the news of the circuit, one relayed trip instead of two.
 */
import { EventEmitter } from 'eventemitter3';
import type { Address } from '../util/address.js';
import type { TimerHandle } from '../util/clock.js';
import { bytesToHex, equalBytes, hexToBytes } from '../util/bytes.js';
import { MccError, invalidArgument } from '../errors.js';
import { fromSocketAddress, toSocketAddress } from '../wire/address.js';
import type { InboundMessage } from '../session/session.js';
import type { Envelope } from '../wire/codec.js';
import { CIRCUIT_ID_SIZE, MAX_EARLY_BYTES, MAX_EARLY_DATAGRAMS, isVirtualAddress } from './relay-packet.js';
import type { RelayTransport } from './relay-transport.js';
import { CircuitTable, type IncomingEnd } from './relay-circuit-table.js';
import { unreservedConnectPadding } from './relay-unreserved.js';
import { topUpReservations } from './reserve-round.js';
import type { NatContext, NatPeer } from './types.js';
import type { RelayClientOptions, RelayReservationInfo, RelayedConnection, RelayRoute, OpeningCircuit, RelayClientEvents } from './relay-client-types.js';
export type { RelayClientOptions, RelayReservationInfo, RelayedConnection, RelayRoute, OpeningCircuit, RelayClientEvents } from './relay-client-types.js';

/**
 * Round trips to the relay a RelayConnect answer needs (RequestOptions.rttFactor): the relay
 * answers after the target accepted, about 1.5 of our round trips to the relay, 2 when the
 * target is as far from the relay as we are.
 */
const RELAY_CONNECT_RTT_FACTOR = 2;
/** Reservation attempts added each RESERVE_HEDGE_MS a top-up is still short (reserve-round.ts), and in flight at most. */
const SPARE_RESERVE_ATTEMPTS = 2;
const RESERVE_HEDGE_MS = 1000;
const MAX_RESERVE_ATTEMPTS_IN_FLIGHT = 4;
/** Retry delay after a round that left us short of relays (three times, then doubling up to `retryMs`). */
const SHORT_RETRY_MS = 1000;

/** Reservations and circuits of one node. */
export class RelayClient extends EventEmitter<RelayClientEvents> {
  private readonly minRelays: number;
  private readonly maxRelays: number;
  private readonly retryMs: number;
  private readonly requestTimeoutMs: number;
  private readonly acceptUnreserved: boolean;
  private readonly acceptIncoming: (initiator: Uint8Array, address: Address | undefined) => boolean;
  private readonly reserved = new Map<string, RelayReservationInfo>();
  /** Circuits we are an end of; for those others opened, who opened each and through which relay. */
  private readonly circuits: CircuitTable;
  private candidates: NatPeer[] = [];
  private wanted = false;
  private timer: TimerHandle | undefined;
  /** Deliveries of early datagrams that wait for our acceptance to go out first. */
  private readonly earlyTimers = new Set<TimerHandle>();
  private running: Promise<void> | undefined;
  /** A round was asked for while one ran (e.g. new candidates): run another right after. */
  private again = false;
  /** Rounds in a row that ended short of `minRelays` (sets the retry backoff). */
  private shortRounds = 0;
  private closed = false;

  constructor(
    private readonly context: NatContext,
    private readonly transport: RelayTransport,
    options: RelayClientOptions = {},
  ) {
    super();
    this.minRelays = options.minRelays ?? 2;
    this.maxRelays = options.maxRelays ?? 4;
    if (!(this.minRelays >= 1 && this.maxRelays >= this.minRelays)) throw invalidArgument('minRelays', 'expected 1 <= minRelays <= maxRelays');
    this.retryMs = options.retryMs ?? 30_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 4000;
    const maxCircuits = options.maxCircuits ?? 64;
    if (!(Number.isInteger(maxCircuits) && maxCircuits >= 1)) throw invalidArgument('maxCircuits', 'expected an integer >= 1');
    this.circuits = new CircuitTable(
      context.clock,
      (id) => transport.circuitTraffic(id),
      maxCircuits,
      (id) => this.closeCircuit(id),
    );
    this.acceptIncoming = options.acceptIncoming ?? (() => true);
    this.acceptUnreserved = options.acceptUnreserved ?? true;
    context.rpc.handle('relayIncoming', (request) => this.onIncoming(request));
  }

  /** Live reservations, soonest-expiring first. */
  get reservations(): RelayReservationInfo[] {
    const now = this.context.clock.now();
    return [...this.reserved.values()].filter((r) => r.expires > now).sort((a, b) => a.expires - b.expires);
  }

  /** Circuits this node is an end of now (diagnostics). */
  get circuitCount(): number {
    return this.circuits.size;
  }

  /** The relays to list in provider records. */
  get relays(): NatPeer[] {
    return this.reservations.map((r) => ({ id: r.relay.id, address: { ...r.relay.address } }));
  }

  /** Replaces the reachable nodes that reservations may be made with (e.g. from the routing table). */
  setCandidates(candidates: NatPeer[]): void {
    this.candidates = candidates.filter((c) => !isVirtualAddress(c.address));
    if (this.wanted) this.kick(0);
  }

  /**
   * Starts (true) or stops (false) keeping reservations: the owner turns it on when the
   * node is unreachable and off when it becomes reachable.
   */
  setWanted(wanted: boolean): void {
    this.wanted = wanted && !this.closed;
    if (this.wanted) this.kick(0);
    else {
      this.context.clock.clearTimeout(this.timer);
      this.timer = undefined;
      if (this.reserved.size > 0) {
        this.reserved.clear();
        this.emit('reservations', []);
      }
    }
  }

  /** Resolves once the current maintenance round (if any) finished; for tests and orderly starts. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Makes (or refreshes) a reservation with `relay`. */
  async reserve(relay: NatPeer): Promise<RelayReservationInfo> {
    const answer = await this.context.rpc.request(relay, { relayReserve: {} }, { timeoutMs: this.requestTimeoutMs });
    const body = answer.envelope.relayReservation;
    if (!body || !(body.lifetimeMs && body.lifetimeMs > 0)) throw new MccError('ERR_PEER', 'relay sent no reservation');
    const info: RelayReservationInfo = {
      relay: { id: relay.id, address: { ...relay.address } },
      expires: this.context.clock.now() + body.lifetimeMs,
      observed: fromSocketAddress(body.observed) ?? undefined,
      bytesPerSecond: body.bytesPerSecond ?? 0,
      lifetimeMs: body.lifetimeMs,
    };
    const hex = bytesToHex(relay.id);
    const known = this.reserved.has(hex);
    this.reserved.set(hex, info);
    if (!known) this.emit('reservations', this.reservations);
    return info;
  }

  /** Opens a circuit to `target` through `relay`; resolves with the virtual address that reaches it. */
  async connect(
    relay: NatPeer,
    target: Uint8Array,
    options: { signal?: AbortSignal; timeoutMs?: number; targetAddress?: Address } = {},
  ): Promise<RelayedConnection> {
    return this.open(target, [{ relay, targetAddress: options.targetAddress }], options).launch();
  }

  /**
   * Starts a circuit to `target`: registers it (so its virtual address can be sent to at
   * once) and returns; {@link OpeningCircuit.launch} sends the set-up. Send what should ride
   * the set-up (handshake, hole-punch offer) before launching.
   * @throws MccError `ERR_LIMIT` when the circuit table is full of circuits in use.
   */
  open(target: Uint8Array, routes: RelayRoute[], options: { signal?: AbortSignal; timeoutMs?: number } = {}): OpeningCircuit {
    if (!(target instanceof Uint8Array) || target.length !== 32) throw invalidArgument('target', 'expected a 32-byte node ID');
    if (routes.length === 0) throw invalidArgument('routes', 'expected at least one relay');
    let circuitId = bytesToHex(this.context.crypto.randomBytes(CIRCUIT_ID_SIZE));
    while (this.circuits.has(circuitId)) circuitId = bytesToHex(this.context.crypto.randomBytes(CIRCUIT_ID_SIZE));
    this.circuits.makeRoom();
    const address = this.transport.addCircuit(circuitId, routes[0].relay.address, { opening: true });
    this.circuits.add(circuitId, undefined, true);
    let launched: Promise<RelayedConnection> | undefined;
    let cancelled = false;
    const launch = async (): Promise<RelayedConnection> => {
      const early = this.earlyOf(circuitId);
      let last: unknown;
      for (const route of routes) {
        if (cancelled || options.signal?.aborted) break;
        this.transport.retarget(circuitId, route.relay.address);
        try {
          await this.requestCircuit(route, target, circuitId, early, options);
        } catch (error) {
          last = error;
          continue;
        }
        if (cancelled) break;
        this.transport.openCircuit(circuitId, early.length);
        this.circuits.opened(circuitId);
        return {
          relay: { id: route.relay.id, address: { ...route.relay.address } },
          circuitId,
          peer: target,
          address: { ...address },
          peerObserved: undefined,
        };
      }
      this.closeCircuit(circuitId);
      if (options.signal?.aborted) throw new MccError('ERR_ABORTED', 'connect aborted', { cause: options.signal.reason });
      if (routes.length === 1 && last instanceof MccError) throw last;
      throw new MccError('ERR_UNREACHABLE', 'no relay opened a circuit to the peer', { cause: last });
    };
    return {
      circuitId,
      address: { ...address },
      peer: target,
      launch: () => (launched ??= launch()),
      cancel: () => {
        cancelled = true;
        this.closeCircuit(circuitId);
      },
    };
  }

  /** What rides the set-up: the first held datagrams, within the limits of RelayConnect.early. */
  private earlyOf(circuitId: string): Uint8Array[] {
    let bytes = 0;
    const held = this.transport.heldDatagrams(circuitId).slice(0, MAX_EARLY_DATAGRAMS);
    const fits = held.findIndex((datagram) => (bytes += datagram.length) > MAX_EARLY_BYTES);
    return fits < 0 ? held : held.slice(0, fits);
  }

  /** One RelayConnect; resolves when the relay answers that the circuit is open. */
  private async requestCircuit(
    route: RelayRoute,
    target: Uint8Array,
    circuitId: string,
    early: Uint8Array[],
    options: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<void> {
    const id = hexToBytes(circuitId);
    const relayConnect = { target, circuitId: id, early, ...(route.targetAddress ? { address: toSocketAddress(route.targetAddress) } : {}) };
    // Towards a target without reservation the relay's announcement must not outweigh our request (relay-unreserved.ts).
    const padding = route.targetAddress ? unreservedConnectPadding(relayConnect) : undefined;
    const answer = await this.context.rpc.request(route.relay, padding ? { relayConnect, padding } : { relayConnect }, {
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? this.requestTimeoutMs * 2,
      retries: 1,
      // The relay answers once the target accepted: I -> R -> T -> R -> I, up to two of our
      // round trips to R. Retransmitting after one would send the early datagrams twice.
      rttFactor: RELAY_CONNECT_RTT_FACTOR,
    });
    const answered = answer.envelope.relayCircuit?.circuitId;
    if (!(answered instanceof Uint8Array) || !equalBytes(answered, id)) throw new MccError('ERR_PEER', 'relay sent no circuit');
  }

  /** Forgets a circuit. */
  closeCircuit(circuitIdHex: string): void {
    this.transport.removeCircuit(circuitIdHex);
    this.circuits.remove(circuitIdHex);
  }

  /** Stops timers; forgets reservations and circuits. */
  close(): void {
    this.closed = true;
    this.wanted = false;
    this.context.clock.clearTimeout(this.timer);
    for (const timer of this.earlyTimers) this.context.clock.clearTimeout(timer);
    this.earlyTimers.clear();
    this.reserved.clear();
    for (const id of this.circuits.clear()) this.transport.removeCircuit(id);
  }

  private adopt(relay: NatPeer, circuitIdHex: string, end: IncomingEnd, peerObserved: Address | undefined): RelayedConnection {
    const address = this.transport.addCircuit(circuitIdHex, relay.address);
    this.circuits.add(circuitIdHex, end);
    return { relay: { id: relay.id, address: { ...relay.address } }, circuitId: circuitIdHex, peer: end.initiator, address, peerObserved };
  }

  private onIncoming(request: InboundMessage): Envelope {
    const body = request.envelope.relayIncoming;
    if (isVirtualAddress(request.from.address)) throw new MccError('ERR_PEER', 'circuits do not nest');
    // Unreserved circuits come from relays an initiator picked because only they reach us.
    if (!this.reserved.has(request.fromHex) && !this.acceptUnreserved) throw new MccError('ERR_PEER', 'no reservation with you');
    const circuitId = body?.circuitId;
    const initiator = body?.initiator;
    if (!(circuitId instanceof Uint8Array) || circuitId.length !== CIRCUIT_ID_SIZE || !(initiator instanceof Uint8Array) || initiator.length !== 32) {
      throw new MccError('ERR_INVALID_ARGUMENT', 'malformed RelayIncoming');
    }
    if (equalBytes(initiator, request.from.id)) throw new MccError('ERR_INVALID_ARGUMENT', 'relay cannot be the initiator');
    const early = body?.early ?? [];
    if (early.length > MAX_EARLY_DATAGRAMS) throw new MccError('ERR_INVALID_ARGUMENT', 'too many early datagrams');
    const initiatorAddress = fromSocketAddress(body?.initiatorAddress) ?? undefined;
    if (!this.acceptIncoming(initiator, initiatorAddress)) throw new MccError('ERR_PEER', 'circuit refused');
    const idHex = bytesToHex(circuitId);
    const end: IncomingEnd = {
      initiator,
      initiatorHex: bytesToHex(initiator),
      relay: request.from.id,
      relayHex: request.fromHex,
      unreserved: !this.reserved.has(request.fromHex),
    };
    let replacing: string | undefined;
    if (this.circuits.has(idHex)) {
      const known = this.circuits.incoming(idHex);
      // Initiators pick circuit IDs and every 0x13 header shows them: without this, anyone who saw
      // one could move our end of a live circuit to a relay of their choice and cut the real peer off.
      if (!known || !equalBytes(known.initiator, initiator)) throw new MccError('ERR_LIMIT', 'circuit ID in use');
      // A retransmitted announcement (our acceptance was lost): accept again, deliver nothing twice.
      if (equalBytes(known.relay, request.from.id)) return { relayCircuit: { circuitId } };
      // The same initiator trying its next route (the first relay's answer never reached it): the
      // circuit moves to this relay, as the initiator's own end already has (and counts for it now),
      // but only if this relay has room: a refusal leaves the circuit where it was.
      replacing = idHex;
    }
    // Never at the cost of a circuit in use; bounded per relay, per initiator, for relays without
    // reservation and for incoming circuits in all (relay-circuit-table.ts).
    this.circuits.makeRoom(end, replacing);
    if (replacing) this.closeCircuit(replacing);
    // The relay may have moved (rebinding): trust the address it speaks from.
    const relay = { id: request.from.id, address: request.from.address };
    const connection = this.adopt(relay, idHex, end, initiatorAddress);
    this.emit('incoming', connection);
    // The initiator's first datagrams (sealed for us, unread by the relay) arrive as if through
    // the circuit, once this handler has answered: the acceptance goes out first.
    if (early.length > 0 && !this.closed) {
      const timer = this.context.clock.setTimeout(() => {
        this.earlyTimers.delete(timer);
        for (const datagram of early) if (datagram instanceof Uint8Array) this.transport.deliver(idHex, datagram);
      }, 0);
      this.earlyTimers.add(timer);
    }
    return { relayCircuit: { circuitId } };
  }

  private kick(delay: number): void {
    if (!this.wanted || this.closed) return;
    this.context.clock.clearTimeout(this.timer);
    this.timer = this.context.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.running) {
        this.again = true;
        return;
      }
      this.running = this.maintain().finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick(0);
        }
      });
    }, delay);
  }

  /** One round: refresh what is due, replace what failed, top up to `minRelays`. */
  private async maintain(): Promise<void> {
    const now = this.context.clock.now();
    let failed = false;
    // Refresh reservations past half their lifetime.
    for (const [hex, info] of [...this.reserved]) {
      if (!this.wanted) return;
      if (now < this.refreshAt(info)) continue;
      try {
        await this.reserve(info.relay);
      } catch {
        this.reserved.delete(hex);
        failed = true;
        this.emit('reservations', this.reservations);
      }
    }
    // Top up from candidates we hold no reservation with (a few at a time, see reserve-round.ts).
    const toppedUp = await topUpReservations({
      candidates: this.candidates.filter((candidate) => !this.reserved.has(bytesToHex(candidate.id))),
      held: () => this.reserved.size,
      wanted: this.minRelays,
      spare: SPARE_RESERVE_ATTEMPTS,
      hedgeMs: RESERVE_HEDGE_MS,
      maxInFlight: MAX_RESERVE_ATTEMPTS_IN_FLIGHT,
      clock: this.context.clock,
      reserve: (candidate) => this.reserve(candidate),
      active: () => this.wanted,
    });
    failed ||= toppedUp;
    // A slow candidate that answered after all may have taken us past the maximum: keep the
    // reservations that last longest (the relay lets the others expire).
    const surplus = this.reservations.slice(0, Math.max(0, this.reserved.size - this.maxRelays));
    for (const info of surplus) this.reserved.delete(bytesToHex(info.relay.id));
    if (surplus.length > 0) this.emit('reservations', this.reservations);
    if (!this.wanted) return;
    const short = this.reserved.size < this.minRelays;
    this.shortRounds = short ? this.shortRounds + 1 : 0;
    let due = Number.POSITIVE_INFINITY;
    for (const info of this.reserved.values()) due = Math.min(due, this.refreshAt(info) - this.context.clock.now());
    // Short of relays (e.g. the candidates' relay role was not on yet): retry soon, backing off.
    // A refusal costs the relay one answer, so the first few retries come at once.
    if (short) due = Math.min(due, SHORT_RETRY_MS * 2 ** Math.max(0, Math.min(this.shortRounds - 3, 8)), this.retryMs);
    else if (failed) due = Math.min(due, this.retryMs);
    if (Number.isFinite(due)) this.kick(Math.max(1000, due));
  }

  /** Refresh at half the granted lifetime. */
  private refreshAt(info: RelayReservationInfo): number {
    return info.expires - info.lifetimeMs / 2;
  }
}
