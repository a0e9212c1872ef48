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
 * ({@link RelayClient.connect}); the reserved node accepts circuits the relay
 * announces (`RelayIncoming`). Both ends register the circuit in their
 * {@link RelayTransport} and from then on address each other by the circuit's
 * virtual address: sealed session and tunnel datagrams flow through the relay unread.
 */
import { EventEmitter } from 'eventemitter3';
import type { Address } from '../util/address.js';
import type { TimerHandle } from '../util/clock.js';
import { bytesToHex, equalBytes } from '../util/bytes.js';
import { MccError, invalidArgument } from '../errors.js';
import { fromSocketAddress, toSocketAddress } from '../wire/address.js';
import type { InboundMessage } from '../session/session.js';
import type { Envelope } from '../wire/codec.js';
import { CIRCUIT_ID_SIZE, isVirtualAddress } from './relay-packet.js';
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
  async connect(
    relay: NatPeer,
    target: Uint8Array,
    options: { signal?: AbortSignal; timeoutMs?: number; targetAddress?: Address } = {},
  ): Promise<RelayedConnection> {
    if (!(target instanceof Uint8Array) || target.length !== 32) throw invalidArgument('target', 'expected a 32-byte node ID');
    const relayConnect = options.targetAddress ? { target, address: toSocketAddress(options.targetAddress) } : { target };
    const answer = await this.context.rpc.request(relay, { relayConnect }, {
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? this.requestTimeoutMs * 2,
      retries: 1,
    });
    const circuitId = answer.envelope.relayCircuit?.circuitId;
    if (!(circuitId instanceof Uint8Array) || circuitId.length !== CIRCUIT_ID_SIZE) throw new MccError('ERR_PEER', 'relay sent no circuit');
    return this.adopt(relay, bytesToHex(circuitId), target, undefined);
  }

  /** Forgets a circuit. */
  closeCircuit(circuitIdHex: string): void {
    this.transport.removeCircuit(circuitIdHex);
    const index = this.circuitIds.indexOf(circuitIdHex);
    if (index >= 0) this.circuitIds.splice(index, 1);
  }

  /** Stops timers; forgets reservations and circuits. */
  close(): void {
    this.closed = true;
    this.wanted = false;
    this.context.clock.clearTimeout(this.timer);
    this.reserved.clear();
    for (const id of this.circuitIds.splice(0)) this.transport.removeCircuit(id);
  }

  private adopt(relay: NatPeer, circuitIdHex: string, peer: Uint8Array, peerObserved: Address | undefined): RelayedConnection {
    const address = this.transport.addCircuit(circuitIdHex, relay.address);
    this.circuitIds.push(circuitIdHex);
    while (this.circuitIds.length > this.maxCircuits) this.transport.removeCircuit(this.circuitIds.shift()!);
    return { relay: { id: relay.id, address: { ...relay.address } }, circuitId: circuitIdHex, peer, address, peerObserved };
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
    const initiatorAddress = fromSocketAddress(body?.initiatorAddress) ?? undefined;
    if (!this.acceptIncoming(initiator, initiatorAddress)) throw new MccError('ERR_PEER', 'circuit refused');
    // The relay may have moved (rebinding): trust the address it speaks from.
    const relay = { id: request.from.id, address: request.from.address };
    const connection = this.adopt(relay, bytesToHex(circuitId), initiator, initiatorAddress);
    this.emit('incoming', connection);
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
