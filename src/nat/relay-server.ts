/**
 * The relay role of a reachable node: it keeps reservations for unreachable clients and
 * forwards circuit datagrams between a client and the peers that connect to it.
 *
 * Protocol (sealed RPCs, docs/nat.md):
 *   client    -> relay  RelayReserve                              -> RelayReservation (lifetime, budget, observed)
 *   initiator -> relay  RelayConnect{target, circuit_id, early}   -> RelayCircuit{circuit_id, observed}
 *     relay   -> client RelayIncoming{circuit, initiator, address, early} -> RelayCircuit (accept) | Error
 *   either end -> relay 0x13 | circuit_id | sealed datagram, forwarded unchanged to the other end
 *
 * The initiator names the circuit and sends its first datagrams (sealed end to end, opaque here)
 * inside RelayConnect; the relay passes them on in RelayIncoming. While the target decides, the
 * circuit already forwards the target's datagrams to the initiator (its sending is its consent),
 * but nothing from the initiator beyond what the set-up carried.
 *
 * Everything is bounded: reservations, circuits in total, per client and (consortium limits) per
 * organisation, bytes per second per circuit (token bucket; excess is dropped, as a congested link
 * would), circuit lifetime and idle time, reservation lifetime. Relaying can be switched off at any
 * time ({@link RelayServer.enabled}); existing circuits then close. A set-up towards a target without
 * reservation needs a validated initiator, which pays for what the relay sends it, byte for byte.
 */
import type { Address } from '../util/address.js';
import { sameAddress } from '../util/address.js';
import type { TimerHandle } from '../util/clock.js';
import { bytesToHex, equalBytes, hexToBytes } from '../util/bytes.js';
import { MccError } from '../errors.js';
import { RateLimiter } from '../util/rate-limiter.js';
import { fromSocketAddress, toSocketAddress } from '../wire/address.js';
import type { InboundMessage } from '../session/session.js';
import type { Envelope } from '../wire/codec.js';
import { CIRCUIT_ID_SIZE, MAX_EARLY_BYTES, MAX_EARLY_DATAGRAMS, MAX_RELAYED_INNER_SIZE, isVirtualAddress, relayedIdHex } from './relay-packet.js';
import type { NatContext, NatSendRaw } from './types.js';
import { announceUnreserved, announcementSize, tokenRequest } from './relay-unreserved.js';

/** Limits of the relay role (`MccNodeOptions.relay`): what this node offers peers behind NAT. */
export interface RelayServerOptions {
  /** Offer relaying at all. Default true. */
  enabled?: boolean;
  /** Clients with a reservation at once. Default 64. */
  maxReservations?: number;
  /** Circuits at once, all clients together. Default 256. */
  maxCircuits?: number;
  /** Circuits at once per client. Default 16. */
  maxCircuitsPerClient?: number;
  /** Forwarded bytes per second per circuit (each direction shares it). Default 4 MiB/s. */
  bytesPerSecond?: number;
  /** Burst of the per-circuit bucket in bytes. Default a quarter second of `bytesPerSecond`, at least 64 KiB. */
  burstBytes?: number;
  /** A reservation lasts this long unless refreshed. Default 10 minutes. */
  reservationLifetimeMs?: number;
  /** A circuit closes this long after it opened, whatever its traffic. Default 1 hour. */
  circuitLifetimeMs?: number;
  /** A circuit closes after this long without traffic. Default 2 minutes. */
  circuitIdleMs?: number;
  /** How long the relay waits for the client to accept a circuit. Default 3000 ms. */
  incomingTimeoutMs?: number;
}

/** Counters of the relay role (`node.stats().nat.relayServer`). */
export interface RelayServerStats {
  /** Clients holding a reservation now. */
  reservations: number;
  /** Circuits open through this node now. */
  circuits: number;
  /** Datagrams forwarded between circuit ends, since start. */
  forwardedPackets: number;
  /** Bytes forwarded between circuit ends, since start. */
  forwardedBytes: number;
  /** Dropped: over the circuit's byte budget. */
  droppedRate: number;
  /** Dropped: unknown circuit, wrong source, expired. */
  droppedUnknown: number;
  /** Requests refused (disabled, limits, unknown target). */
  refused: number;
}

interface Reservation {
  id: Uint8Array;
  address: Address;
  expires: number;
  circuits: number;
}

interface Circuit {
  idHex: string;
  clientHex: string;
  initiatorHex: string;
  /** False while the target has not accepted: only the target's datagrams are forwarded. */
  accepted: boolean;
  /** False for a circuit to a reachable target that holds no reservation. */
  reserved: boolean;
  initiator: Address;
  client: Address;
  created: number;
  lastActive: number;
  tokens: number;
  refilledAt: number;
  group: string | undefined; // charged to, by RelayServer.circuitQuota
}

const SWEEP_INTERVAL_MS = 15_000;
/** Set-ups to unreserved targets per initiator IP: honest ones are rare (an initiator whose firewall lets only its relays through). */
const UNRESERVED_PER_IP_PER_SECOND = 1;
const UNRESERVED_PER_IP_BURST = 4;
/**
 * Set-ups to unreserved targets, all initiators together: each sends a datagram to an address
 * an initiator chose, and many validated sources (or one with many addresses) would otherwise
 * add up to any rate.
 */
const UNRESERVED_PER_SECOND = 10;
const UNRESERVED_BURST = 20;
/** Key of the all-initiators bucket. */
const ANY_INITIATOR = '*';

/** The relay role. Construct on every node; it answers only while {@link RelayServer.enabled}. */
export class RelayServer {
  /** Counters (live object). */
  readonly stats: RelayServerStats = { reservations: 0, circuits: 0, forwardedPackets: 0, forwardedBytes: 0, droppedRate: 0, droppedUnknown: 0, refused: 0 };
  private enabledFlag: boolean;
  private readonly limits: Required<RelayServerOptions>;
  private readonly reservations = new Map<string, Reservation>();
  private readonly circuits = new Map<string, Circuit>();
  /**
   * Set-ups waiting for the target, by circuit ID: a retransmitted RelayConnect joins its set-up
   * (and, to an unreserved target, pays for one more announcement of `size` bytes at most).
   */
  private readonly setups = new Map<string, { initiatorHex: string; answer: Promise<Envelope>; unreserved?: { size: number; again: () => void } }>();
  private sweepTimer: TimerHandle | undefined;
  private closed = false;
  /** Circuits to unreserved targets make the relay contact an address the initiator chose: rate-limited per initiator IP and in total. */
  private readonly unreservedLimiter: RateLimiter;
  private readonly unreservedTotal: RateLimiter;
  /**
   * Consortium limits per organisation (src/node/consortium-limits.ts): the group a new circuit of `initiatorHex` is
   * charged to, or false to refuse it; `open(group)` counts the group's circuits. */
  circuitQuota: ((initiatorHex: string, open: (group: string) => number) => string | false | undefined) | undefined;

  constructor(
    private readonly context: NatContext,
    private readonly sendRaw: NatSendRaw,
    options: RelayServerOptions = {},
  ) {
    const bytesPerSecond = options.bytesPerSecond ?? 4 * 1024 * 1024;
    this.limits = {
      enabled: options.enabled ?? true,
      maxReservations: options.maxReservations ?? 64,
      maxCircuits: options.maxCircuits ?? 256,
      maxCircuitsPerClient: options.maxCircuitsPerClient ?? 16,
      bytesPerSecond,
      burstBytes: options.burstBytes ?? Math.max(64 * 1024, bytesPerSecond / 4),
      reservationLifetimeMs: options.reservationLifetimeMs ?? 10 * 60_000,
      circuitLifetimeMs: options.circuitLifetimeMs ?? 60 * 60_000,
      circuitIdleMs: options.circuitIdleMs ?? 2 * 60_000,
      incomingTimeoutMs: options.incomingTimeoutMs ?? 3000,
    };
    this.enabledFlag = this.limits.enabled;
    this.unreservedLimiter = new RateLimiter(context.clock, { ratePerSecond: UNRESERVED_PER_IP_PER_SECOND, burst: UNRESERVED_PER_IP_BURST });
    this.unreservedTotal = new RateLimiter(context.clock, { ratePerSecond: UNRESERVED_PER_SECOND, burst: UNRESERVED_BURST, maxKeys: 1 });
    context.rpc.handle('relayReserve', (request) => this.onReserve(request));
    context.rpc.handle('relayConnect', (request) => this.onConnect(request));
  }

  /** True while relaying is offered. */
  get enabled(): boolean {
    return this.enabledFlag && !this.closed;
  }

  /** Turns relaying on or off; turning it off drops every reservation and circuit. */
  setEnabled(enabled: boolean): void {
    this.enabledFlag = enabled;
    if (!enabled) {
      this.reservations.clear();
      this.circuits.clear();
      this.updateCounts();
    }
  }

  /** Node IDs (hex) holding a live reservation. */
  clients(): string[] {
    const now = this.context.clock.now();
    return [...this.reservations].filter(([, r]) => r.expires > now).map(([hex]) => hex);
  }

  /**
   * Forwards one 0x13 datagram if it belongs to a circuit we serve. Returns false
   * when it does not (the caller counts the drop). Never throws. `idHex` is the circuit ID
   * when the caller has already read it (the transport has).
   */
  handlePacket(data: Uint8Array, from: Address, idHex?: string): boolean {
    const id = idHex ?? relayedIdHex(data);
    if (id === null) return false;
    const circuit = this.circuits.get(id);
    if (!circuit || !this.enabled) return false;
    const now = this.context.clock.now();
    if (now - circuit.created > this.limits.circuitLifetimeMs || now - circuit.lastActive > this.limits.circuitIdleMs) {
      this.closeCircuit(circuit);
      return false;
    }
    let to: Address;
    if (sameAddress(from, circuit.initiator) && circuit.accepted) to = circuit.client;
    else if (sameAddress(from, circuit.client)) to = circuit.initiator;
    else {
      this.stats.droppedUnknown++;
      return true; // ours, but not from an end (or the initiator before the target accepted): drop silently
    }
    circuit.tokens = Math.min(this.limits.burstBytes, circuit.tokens + ((now - circuit.refilledAt) / 1000) * this.limits.bytesPerSecond);
    circuit.refilledAt = now;
    if (circuit.tokens < data.length) {
      this.stats.droppedRate++;
      return true;
    }
    circuit.tokens -= data.length;
    circuit.lastActive = now;
    this.stats.forwardedPackets++;
    this.stats.forwardedBytes += data.length;
    this.sendRaw(to, data);
    return true;
  }

  /** Stops timers and forgets all state. */
  close(): void {
    this.closed = true;
    this.context.clock.clearTimeout(this.sweepTimer);
    this.reservations.clear();
    this.circuits.clear();
    this.updateCounts();
  }

  private onReserve(request: InboundMessage): Envelope {
    if (!this.enabled) return this.refuse('relaying is off');
    if (isVirtualAddress(request.from.address)) return this.refuse('reserve directly, not through a circuit');
    const now = this.context.clock.now();
    this.expireReservations(now);
    let reservation = this.reservations.get(request.fromHex);
    if (!reservation && this.reservations.size >= this.limits.maxReservations) return this.refuse('no reservation slot free', 'ERR_LIMIT');
    if (!reservation) {
      reservation = { id: request.from.id, address: request.from.address, expires: 0, circuits: 0 };
      this.reservations.set(request.fromHex, reservation);
    }
    reservation.address = { ...request.from.address };
    reservation.expires = now + this.limits.reservationLifetimeMs;
    this.updateCounts();
    this.scheduleSweep();
    return {
      relayReservation: {
        lifetimeMs: this.limits.reservationLifetimeMs,
        bytesPerSecond: Math.min(0xffffffff, Math.floor(this.limits.bytesPerSecond)),
        maxCircuits: this.limits.maxCircuitsPerClient,
        observed: toSocketAddress(request.from.address),
      },
    };
  }

  private onConnect(request: InboundMessage): Envelope | Promise<Envelope> {
    if (!this.enabled) return this.refuse('relaying is off');
    if (isVirtualAddress(request.from.address)) return this.refuse('connect directly, not through a circuit');
    const body = request.envelope.relayConnect;
    const target = body?.target;
    if (!(target instanceof Uint8Array) || target.length !== 32) return this.refuse('target must be a 32-byte node ID', 'ERR_INVALID_ARGUMENT');
    const circuitId = body?.circuitId;
    if (!(circuitId instanceof Uint8Array) || circuitId.length !== CIRCUIT_ID_SIZE) return this.refuse('circuit_id must be 8 bytes', 'ERR_INVALID_ARGUMENT');
    const early = body?.early ?? [];
    if (!validEarly(early)) return this.refuse(`early data: at most ${MAX_EARLY_DATAGRAMS} datagrams, ${MAX_EARLY_BYTES} bytes`, 'ERR_INVALID_ARGUMENT');
    if (equalBytes(target, request.from.id)) return this.refuse('cannot relay to yourself', 'ERR_INVALID_ARGUMENT');
    const idHex = bytesToHex(circuitId);
    // A retransmitted RelayConnect (its answer was lost, or is still on the way) gets the same answer.
    const setup = this.setups.get(idHex);
    if (setup?.initiatorHex === request.fromHex) {
      if (setup.unreserved && request.validated && request.size >= setup.unreserved.size) setup.unreserved.again();
      return setup.answer;
    }
    const existing = this.circuits.get(idHex);
    if (!setup && existing?.accepted && existing.initiatorHex === request.fromHex && sameAddress(existing.initiator, request.from.address)) {
      return { relayCircuit: { circuitId, observed: toSocketAddress(request.from.address) } };
    }
    if (setup || existing) return this.refuse('circuit ID in use', 'ERR_LIMIT');
    const now = this.context.clock.now();
    this.expireReservations(now);
    const targetHex = bytesToHex(target);
    const reservation = this.reservations.get(targetHex);
    // Without a reservation the target must be reachable at the address the initiator names
    // (an initiator whose firewall lets UDP reach only this relay).
    const named = fromSocketAddress(body?.address);
    const targetAddress = reservation?.address ?? (named && !isVirtualAddress(named) ? named : undefined);
    if (!targetAddress) return this.refuse('target holds no reservation here', 'ERR_NOT_FOUND');
    if (this.circuits.size >= this.limits.maxCircuits || (reservation && reservation.circuits >= this.limits.maxCircuitsPerClient)) {
      return this.refuse('circuit limit reached', 'ERR_LIMIT');
    }
    const group = this.circuitQuota?.(request.fromHex, (g) => [...this.circuits.values()].filter((c) => c.group === g).length);
    if (group === false) return this.refuse("circuit limit of the initiator's organisation reached", 'ERR_LIMIT');
    const relayIncoming = { circuitId, initiator: request.from.id, initiatorAddress: toSocketAddress(request.from.address), early };
    // Towards an address the initiator chose: only from a validated source, and what we send there
    // must not outweigh what it sent us (relay-unreserved.ts).
    const size = reservation ? 0 : announcementSize(relayIncoming);
    if (!reservation) {
      if (!request.validated) return tokenRequest(request);
      if (request.size < size) return this.refuse(`a RelayConnect to an unreserved target must be at least ${size} bytes`, 'ERR_LIMIT');
      if (!this.unreservedLimiter.take(request.from.address.host) || !this.unreservedTotal.take(ANY_INITIATOR))
        return this.refuse('too many unreserved circuits', 'ERR_LIMIT');
    }
    // The circuit exists (unaccepted) before the target hears of it: the target's first
    // answers through it may overtake its acceptance.
    const circuit: Circuit = {
      idHex,
      clientHex: targetHex,
      initiatorHex: request.fromHex,
      accepted: false,
      reserved: reservation !== undefined,
      initiator: { ...request.from.address },
      client: { ...targetAddress },
      created: now,
      lastActive: now,
      tokens: this.limits.burstBytes,
      refilledAt: now,
      group,
    };
    this.circuits.set(idHex, circuit);
    if (reservation) reservation.circuits++;
    this.updateCounts();
    this.scheduleSweep();
    const to = { id: target, address: circuit.client };
    const timeoutMs = this.limits.incomingTimeoutMs;
    const unreserved = reservation ? undefined : announceUnreserved(this.context.rpc, this.context.clock, to, { relayIncoming }, timeoutMs);
    const accepted =
      unreserved?.accepted ??
      this.context.rpc.request(to, { relayIncoming }, { timeoutMs }).then(
        () => true,
        () => false,
      );
    const answer = this.setUp(request, circuit, accepted, reservation).finally(() => this.setups.delete(idHex));
    this.setups.set(idHex, { initiatorHex: request.fromHex, answer, ...(unreserved ? { unreserved: { size, again: unreserved.again } } : {}) });
    return answer;
  }

  /** Waits for the target to accept `circuit` (announced with the initiator's early datagrams). */
  private async setUp(request: InboundMessage, circuit: Circuit, accepted: Promise<boolean>, reservation: Reservation | undefined): Promise<Envelope> {
    const circuitId = hexToBytes(circuit.idHex);
    if (!(await accepted)) {
      this.closeCircuit(circuit);
      return this.refuse('target did not accept the circuit', 'ERR_PEER');
    }
    if (!this.enabled || this.circuits.get(circuit.idHex) !== circuit || (reservation && this.reservations.get(circuit.clientHex) !== reservation)) {
      this.closeCircuit(circuit);
      return this.refuse('reservation ended', 'ERR_PEER');
    }
    circuit.accepted = true;
    circuit.lastActive = this.context.clock.now();
    return { relayCircuit: { circuitId, observed: toSocketAddress(request.from.address) } };
  }

  private refuse(message: string, code: 'ERR_LIMIT' | 'ERR_NOT_FOUND' | 'ERR_INVALID_ARGUMENT' | 'ERR_PEER' = 'ERR_PEER'): never {
    this.stats.refused++;
    throw new MccError(code, message);
  }

  private closeCircuit(circuit: Circuit): void {
    if (this.circuits.get(circuit.idHex) !== circuit) return;
    this.circuits.delete(circuit.idHex);
    const reservation = circuit.reserved ? this.reservations.get(circuit.clientHex) : undefined;
    if (reservation) reservation.circuits = Math.max(0, reservation.circuits - 1);
    this.updateCounts();
  }

  private expireReservations(now: number): void {
    for (const [hex, reservation] of this.reservations) if (reservation.expires <= now) this.reservations.delete(hex);
  }

  /** One timer at a time sweeps expired state, and only while there is state. */
  private scheduleSweep(): void {
    if (this.sweepTimer !== undefined || this.closed) return;
    this.sweepTimer = this.context.clock.setTimeout(() => {
      this.sweepTimer = undefined;
      const now = this.context.clock.now();
      this.expireReservations(now);
      for (const circuit of [...this.circuits.values()]) {
        const dead = now - circuit.created > this.limits.circuitLifetimeMs || now - circuit.lastActive > this.limits.circuitIdleMs;
        if (dead || (circuit.reserved && !this.reservations.has(circuit.clientHex))) this.closeCircuit(circuit);
      }
      this.updateCounts();
      if (this.reservations.size > 0 || this.circuits.size > 0) this.scheduleSweep();
    }, SWEEP_INTERVAL_MS);
  }

  private updateCounts(): void {
    this.stats.reservations = this.reservations.size;
    this.stats.circuits = this.circuits.size;
  }
}

/** True when `early` fits the set-up limits (the relay cannot read the datagrams, only bound them). */
function validEarly(early: Uint8Array[]): boolean {
  if (early.length > MAX_EARLY_DATAGRAMS) return false;
  let bytes = 0;
  for (const datagram of early) {
    if (!(datagram instanceof Uint8Array) || datagram.length === 0 || datagram.length > MAX_RELAYED_INNER_SIZE) return false;
    bytes += datagram.length;
  }
  return bytes <= MAX_EARLY_BYTES;
}
