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
import type { NatContext, NatPeer } from './types.js';

/** Options of a {@link RelayClient}. */
export interface RelayClientOptions {
  /** Reservations to keep while reservations are wanted. Default 2. */
  minRelays?: number;
  /** Most reservations at once. Default 4 (the provider record lists at most 4). */
  maxRelays?: number;
  /** Retry delay after a failed reservation round. Default 30 s. */
  retryMs?: number;
  /** Time budget of one reservation or connect request. Default 4000 ms. */
  requestTimeoutMs?: number;
  /** Circuits this node is an end of, at most; the oldest is forgotten beyond. Default 64. */
  maxCircuits?: number;
  /** Accept circuits from relays we hold no reservation with (reachable nodes). Default true. */
  acceptUnreserved?: boolean;
  /** Decides whether to accept a circuit from `initiator`. Default: accept. */
  acceptIncoming?: (initiator: Uint8Array, initiatorAddress: Address | undefined) => boolean;
}

/** A live reservation. */
export interface RelayReservationInfo {
  relay: NatPeer;
  /** Clock time the reservation runs out unless refreshed. */
  expires: number;
  /** Our address as the relay sees it. */
  observed: Address | undefined;
  /** The relay's per-circuit budget. */
  bytesPerSecond: number;
  /** Lifetime the relay granted (refreshed at half of it). */
  lifetimeMs: number;
}

/** A circuit this node is an end of. */
export interface RelayedConnection {
  /** The relay in the middle. */
  relay: NatPeer;
  /** Circuit ID (hex). */
  circuitId: string;
  /** The peer at the other end. */
  peer: Uint8Array;
  /** Virtual address that reaches `peer` through the relay. */
  address: Address;
  /** The peer's real address as the relay saw it (for hole punching), when known. */
  peerObserved: Address | undefined;
}

/** A relay to open a circuit through, and (for a reachable target without reservation) where the relay finds the target. */
export interface RelayRoute {
  relay: NatPeer;
  targetAddress?: Address | undefined;
}

/**
 * A circuit being set up ({@link RelayClient.open}). Its virtual address can be sent to at
 * once: those datagrams are held, and the first of them ride the set-up message.
 */
export interface OpeningCircuit {
  /** Circuit ID (hex), chosen by us. */
  readonly circuitId: string;
  /** Virtual address that will reach the peer. */
  readonly address: Address;
  /** The peer at the other end. */
  readonly peer: Uint8Array;
  /**
   * Sends the set-up through each route in turn (carrying what was sent to `address` so
   * far) and resolves with the open circuit; rejects with ERR_UNREACHABLE when no relay
   * carries it (the circuit is then forgotten). Idempotent.
   */
  launch(): Promise<RelayedConnection>;
  /** Gives the circuit up (before or after launch). */
  cancel(): void;
}

/** Events of a {@link RelayClient}. */
export interface RelayClientEvents {
  /** A peer opened a circuit to us. */
  incoming: (connection: RelayedConnection) => void;
  /** The set of live reservations changed. */
  reservations: (relays: RelayReservationInfo[]) => void;
}

/** Reservations and circuits of one node. */
export class RelayClient extends EventEmitter<RelayClientEvents> {
  private readonly minRelays: number;
  private readonly maxRelays: number;
  private readonly retryMs: number;
  private readonly requestTimeoutMs: number;
  private readonly maxCircuits: number;
  private readonly acceptUnreserved: boolean;
  private readonly acceptIncoming: (initiator: Uint8Array, address: Address | undefined) => boolean;
  private readonly reserved = new Map<string, RelayReservationInfo>();
  private readonly circuitIds: string[] = [];
  /** Initiators of circuits announced to us, by circuit ID (to recognise a retransmitted announcement). */
  private readonly incomingPeers = new Map<string, Uint8Array>();
  private candidates: NatPeer[] = [];
  private wanted = false;
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
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
    this.maxCircuits = options.maxCircuits ?? 64;
    this.acceptIncoming = options.acceptIncoming ?? (() => true);
    this.acceptUnreserved = options.acceptUnreserved ?? true;
    context.rpc.handle('relayIncoming', (request) => this.onIncoming(request));
  }

  /** Live reservations, soonest-expiring first. */
  get reservations(): RelayReservationInfo[] {
    const now = this.context.clock.now();
    return [...this.reserved.values()].filter((r) => r.expires > now).sort((a, b) => a.expires - b.expires);
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
  async connect(relay: NatPeer, target: Uint8Array, options: { signal?: AbortSignal; timeoutMs?: number; targetAddress?: Address } = {}): Promise<RelayedConnection> {
    return this.open(target, [{ relay, targetAddress: options.targetAddress }], options).launch();
  }

  /**
   * Starts a circuit to `target`: registers it (so its virtual address can be sent to at
   * once) and returns; {@link OpeningCircuit.launch} sends the set-up. Send what should ride
   * the set-up (handshake, hole-punch offer) before launching.
   */
  open(target: Uint8Array, routes: RelayRoute[], options: { signal?: AbortSignal; timeoutMs?: number } = {}): OpeningCircuit {
    if (!(target instanceof Uint8Array) || target.length !== 32) throw invalidArgument('target', 'expected a 32-byte node ID');
    if (routes.length === 0) throw invalidArgument('routes', 'expected at least one relay');
    let circuitId = bytesToHex(this.context.crypto.randomBytes(CIRCUIT_ID_SIZE));
    while (this.circuitIds.includes(circuitId)) circuitId = bytesToHex(this.context.crypto.randomBytes(CIRCUIT_ID_SIZE));
    const address = this.transport.addCircuit(circuitId, routes[0]!.relay.address, { opening: true });
    this.track(circuitId);
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
        return { relay: { id: route.relay.id, address: { ...route.relay.address } }, circuitId, peer: target, address: { ...address }, peerObserved: undefined };
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
    const answer = await this.context.rpc.request(route.relay, { relayConnect }, {
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? this.requestTimeoutMs * 2,
      retries: 1,
    });
    const answered = answer.envelope.relayCircuit?.circuitId;
    if (!(answered instanceof Uint8Array) || !equalBytes(answered, id)) throw new MccError('ERR_PEER', 'relay sent no circuit');
  }

  /** Forgets a circuit. */
  closeCircuit(circuitIdHex: string): void {
    this.transport.removeCircuit(circuitIdHex);
    this.incomingPeers.delete(circuitIdHex);
    const index = this.circuitIds.indexOf(circuitIdHex);
    if (index >= 0) this.circuitIds.splice(index, 1);
  }

  /** Stops timers; forgets reservations and circuits. */
  close(): void {
    this.closed = true;
    this.wanted = false;
    this.context.clock.clearTimeout(this.timer);
    this.reserved.clear();
    this.incomingPeers.clear();
    for (const id of this.circuitIds.splice(0)) this.transport.removeCircuit(id);
  }

  private adopt(relay: NatPeer, circuitIdHex: string, peer: Uint8Array, peerObserved: Address | undefined): RelayedConnection {
    const address = this.transport.addCircuit(circuitIdHex, relay.address);
    this.track(circuitIdHex);
    return { relay: { id: relay.id, address: { ...relay.address } }, circuitId: circuitIdHex, peer, address, peerObserved };
  }

  /** Remembers a circuit we are an end of; beyond `maxCircuits` the oldest is forgotten. */
  private track(circuitIdHex: string): void {
    if (!this.circuitIds.includes(circuitIdHex)) this.circuitIds.push(circuitIdHex);
    while (this.circuitIds.length > this.maxCircuits) this.transport.removeCircuit(this.circuitIds.shift()!);
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
    // A retransmitted announcement (our acceptance was lost): accept again, deliver nothing twice.
    if (this.circuitIds.includes(idHex) && equalBytes(this.incomingPeers.get(idHex) ?? new Uint8Array(0), initiator)) return { relayCircuit: { circuitId } };
    // The relay may have moved (rebinding): trust the address it speaks from.
    const relay = { id: request.from.id, address: request.from.address };
    const connection = this.adopt(relay, idHex, initiator, initiatorAddress);
    this.incomingPeers.set(idHex, initiator);
    if (this.incomingPeers.size > this.maxCircuits) this.incomingPeers.delete(this.incomingPeers.keys().next().value!);
    this.emit('incoming', connection);
    // The initiator's first datagrams (sealed for us, unread by the relay) arrive as if through
    // the circuit, once this handler has answered: the acceptance goes out first.
    if (early.length > 0) {
      this.context.clock.setTimeout(() => {
        for (const datagram of early) if (datagram instanceof Uint8Array) this.transport.deliver(idHex, datagram);
      }, 0);
    }
    return { relayCircuit: { circuitId } };
  }

  private kick(delay: number): void {
    if (!this.wanted || this.closed) return;
    this.context.clock.clearTimeout(this.timer);
    this.timer = this.context.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.running) this.running = this.maintain().finally(() => (this.running = undefined));
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
    // Top up from candidates we hold no reservation with.
    for (const candidate of this.candidates) {
      if (!this.wanted || this.reserved.size >= this.minRelays) break;
      if (this.reserved.has(bytesToHex(candidate.id))) continue;
      try {
        await this.reserve(candidate);
      } catch {
        failed = true;
      }
    }
    if (!this.wanted) return;
    const short = this.reserved.size < this.minRelays;
    let next = Number.POSITIVE_INFINITY;
    for (const info of this.reserved.values()) next = Math.min(next, this.refreshAt(info) - this.context.clock.now());
    if (short || failed) next = Math.min(next, this.retryMs);
    if (Number.isFinite(next)) this.kick(Math.max(1000, next));
  }

  /** Refresh at half the granted lifetime. */
  private refreshAt(info: RelayReservationInfo): number {
    return info.expires - info.lifetimeMs / 2;
  }
}
