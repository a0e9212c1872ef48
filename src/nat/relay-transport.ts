/**
 * The NAT module's transport seam: a {@link Transport} decorator the node puts
 * between its socket and the session/tunnel layers.
 *
 * - Sends to a circuit's virtual address go out wrapped (`0x13 | circuit ID | datagram`)
 *   to the circuit's relay, together at the end of the current task (so, as with a UDP socket,
 *   the caller must not change a datagram after sending it); sends to real addresses pass
 *   through. While a circuit we initiate is still being set up, sends to it are held (bounded):
 *   the first of them ride the set-up message (`RelayConnect.early`), the rest go out once open.
 * - Inbound `0x13` datagrams are demultiplexed by their 8-byte ID: a circuit we are an end of
 *   is unwrapped and delivered upwards *from the virtual address* (so replies go back through
 *   the relay by themselves); a claimed ID (hole-punch probes) goes to its claimant; anything
 *   else goes to the relay server, when this node is one.
 * - Sends to an address with a route (a hole-punched path that runs over an extra socket,
 *   {@link RelayTransport.addRoute}) go out on that socket; what arrives on it is delivered
 *   upwards like datagrams of the main socket.
 * - Everything else passes through untouched.
 *
 * It also remembers, bounded, where session datagrams went lately ({@link RelayTransport.sentRecently}):
 * a dial-back probe from such an address proves nothing about reachability (our NAT holds a mapping).
 *
 * Bad input never throws: it is dropped and counted in {@link RelayTransport.counters}.
 */
import type { Address } from '../util/address.js';
import { sameAddress } from '../util/address.js';
import type { DatagramHandler, Transport } from '../transport/types.js';
import { PACKET_RELAYED, PACKET_SESSION } from '../wire/constants.js';
import { hexToBytes } from '../util/bytes.js';
import {
  MAX_RELAYED_INNER_SIZE,
  RELAY_HEADER_SIZE,
  circuitIdOf,
  encodeRelayed,
  isVirtualAddress,
  relayedHeader,
  relayedIdHex,
  relayedIdHigh,
  relayedIdLow,
  virtualAddress,
} from './relay-packet.js';

/** Counters of a {@link RelayTransport}. */
export interface RelayTransportCounters {
  /** Datagrams sent through circuits. */
  relayedOut: number;
  /** Datagrams received through circuits. */
  relayedIn: number;
  /** Sends to a virtual address whose circuit is gone. */
  droppedNoCircuit: number;
  /** Sends too large to wrap within the datagram limit. */
  droppedOversized: number;
  /** Inbound 0x13 datagrams nobody claimed, from the wrong source, or nested. */
  droppedInbound: number;
  /** Sends to a circuit being set up beyond what it holds. */
  droppedEarly: number;
}

/** Receives 0x13 datagrams whose ID nobody else claimed (the relay server). Returns false to drop. */
export type RelayFallback = (data: Uint8Array, from: Address, circuitIdHex: string) => boolean;

/** Routes (extra sockets) at most; the oldest is closed beyond. */
const MAX_ROUTES = 64;
/** Recent session destinations remembered. */
const MAX_RECENT_DESTINATIONS = 1024;
/** A remembered destination moves to the newest end of the eviction order at most this often. */
const RECENT_REORDER_MS = 1000;
/** Datagrams a circuit being set up holds (a handshake and a punch offer, with a retransmission or two); only the first few ride the set-up (relay-packet's MAX_EARLY_DATAGRAMS). */
const MAX_HELD_DATAGRAMS = 8;

interface CircuitEnd {
  idBytes: Uint8Array;
  /** The ID as two 32-bit words (see relayedIdHigh): the per-datagram key. */
  high: number;
  low: number;
  /** `0x13 | ID`, sent in front of every datagram (never changed: a socket may still hold it). */
  header: Uint8Array;
  relay: Address;
  virtual: Address;
  /** Sends held while the circuit is being set up; undefined once it is open. */
  early: Uint8Array[] | undefined;
  /** Datagrams relayed each way (see circuitTraffic). */
  received: number;
  sent: number;
}

/** Transport decorator that adds relay circuits and 0x13 demultiplexing. */
export class RelayTransport implements Transport {
  /** Traffic and drop counters. */
  readonly counters: RelayTransportCounters = { relayedOut: 0, relayedIn: 0, droppedNoCircuit: 0, droppedOversized: 0, droppedInbound: 0, droppedEarly: 0 };
  private handler: DatagramHandler = () => {};
  private readonly circuits = new Map<string, CircuitEnd>();
  /** The same circuits by the low word of their ID (a bucket, in case two IDs share it): the per-datagram paths look circuits up by numbers, never by a string built per datagram. */
  private readonly byLowWord = new Map<number, CircuitEnd[]>();
  /** Virtual host -> circuit, so a relayed send does not parse its address. */
  private readonly byVirtualHost = new Map<string, CircuitEnd>();
  /** The circuits the last relayed send and receive used: datagrams come in runs. */
  private lastSent: CircuitEnd | undefined;
  private lastReceived: CircuitEnd | undefined;
  /** Relayed sends of the current task, as (circuit, datagram) pairs: flushOutbox sends them. */
  private readonly outbox: Array<CircuitEnd | Uint8Array> = [];
  /** The last route lookup (its result may be "none"); cleared when routes change. */
  private lastRoute: { host: string; port: number; socket: Transport | undefined } | undefined;
  private readonly claims = new Map<string, DatagramHandler>();
  private fallback: RelayFallback | undefined;
  private internalError: ((error: unknown) => void) | undefined;
  private readonly routes = new Map<string, Transport>();
  private readonly recent = new Map<string, number>();
  private now: () => number = () => 0;

  /** @param inner the real socket (UDP or simulated). */
  constructor(readonly inner: Transport) {
    inner.onDatagram((data, from) => this.receive(data, from));
  }

  bind(): Promise<Address> {
    return this.inner.bind();
  }

  localAddress(): Address {
    return this.inner.localAddress();
  }

  async close(): Promise<void> {
    this.outbox.length = 0;
    this.circuits.clear();
    this.byLowWord.clear();
    this.byVirtualHost.clear();
    this.lastSent = undefined;
    this.lastReceived = undefined;
    this.claims.clear();
    const routes = [...this.routes.values()];
    this.routes.clear();
    this.lastRoute = undefined;
    this.recent.clear();
    await Promise.all(routes.map((socket) => socket.close().catch(() => {})));
    await this.inner.close();
  }

  onDatagram(handler: DatagramHandler): void {
    this.handler = handler;
  }

  send(to: Address, data: Uint8Array): void {
    const last = this.lastSent;
    const circuit =
      last !== undefined && to.host === last.virtual.host && to.port === last.virtual.port ? last : isVirtualAddress(to) ? this.circuitTo(to) : null;
    if (circuit === null) {
      if (data[0] === PACKET_SESSION) this.remember(to);
      if (this.routes.size > 0) {
        const route = this.routeTo(to);
        if (route) return route.send(to, data);
      }
      return this.inner.send(to, data);
    }
    if (!circuit) {
      this.counters.droppedNoCircuit++;
      return;
    }
    this.lastSent = circuit;
    if (data.length > MAX_RELAYED_INNER_SIZE) {
      this.counters.droppedOversized++;
      return;
    }
    if (circuit.early) {
      if (circuit.early.length >= MAX_HELD_DATAGRAMS) this.counters.droppedEarly++;
      else circuit.early.push(new Uint8Array(data)); // a copy even of a Buffer (whose slice() is a view)
      return;
    }
    this.counters.relayedOut++;
    circuit.sent++;
    // Relayed sends leave together at the end of the current task (see flushOutbox).
    this.outbox.push(circuit, data);
    if (this.outbox.length === 2) queueMicrotask(this.flushOutbox);
  }

  /**
   * Sends the relayed datagrams of the current task back to back. The tunnel seals a burst one datagram at a time; sent
   * as they come, each would wake a relay process on the same machine, and ends and relay would take turns on one core
   * per datagram (docs/nat.md). Header and datagram go to the socket as two parts where it can take them: no copy.
   */
  private readonly flushOutbox = (): void => {
    const outbox = this.outbox;
    for (let i = 0; i < outbox.length; i += 2) {
      const circuit = outbox[i] as CircuitEnd;
      const data = outbox[i + 1] as Uint8Array;
      if (this.inner.sendParts) this.inner.sendParts(circuit.relay, circuit.header, data);
      else this.inner.send(circuit.relay, encodeRelayed(circuit.idBytes, data));
    }
    outbox.length = 0;
  };

  /** The extra socket for `to`, if any (a one-entry cache first: sends come in runs to one peer). */
  private routeTo(to: Address): Transport | undefined {
    const last = this.lastRoute;
    if (last !== undefined && last.host === to.host && last.port === to.port) return last.socket;
    const socket = this.routes.get(routeKey(to));
    this.lastRoute = { host: to.host, port: to.port, socket };
    return socket;
  }

  /** The circuit behind a virtual address, or undefined when it is gone. */
  private circuitTo(to: Address): CircuitEnd | undefined {
    const byHost = this.byVirtualHost.get(to.host);
    if (byHost) return byHost;
    const id = circuitIdOf(to);
    return id === undefined ? undefined : this.circuits.get(id);
  }

  /** The circuit a relayed datagram (at least RELAY_HEADER_SIZE long) belongs to, if we are an end of it. */
  private circuitOf(data: Uint8Array): CircuitEnd | undefined {
    const high = relayedIdHigh(data);
    const low = relayedIdLow(data);
    const last = this.lastReceived;
    if (last !== undefined && last.low === low && last.high === high) return last;
    const bucket = this.byLowWord.get(low);
    if (bucket === undefined) return undefined;
    for (const circuit of bucket) {
      if (circuit.high === high) {
        this.lastReceived = circuit;
        return circuit;
      }
    }
    return undefined;
  }

  /** Sends on the real socket even to a virtual-looking address (never used for circuits). */
  sendDirect(to: Address, data: Uint8Array): void {
    this.inner.send(to, data);
  }

  /**
   * Sends to `remote` go out on `socket` from now on (an extra socket that a hole punch opened), and what
   * arrives on it is delivered like main-socket datagrams. The transport owns the socket: removeRoute() or close() closes it.
   */
  addRoute(remote: Address, socket: Transport): void {
    const key = routeKey(remote);
    const previous = this.routes.get(key);
    if (previous === socket) return;
    if (previous) void previous.close().catch(() => {});
    this.routes.set(key, socket);
    this.lastRoute = undefined;
    socket.onDatagram((data, from) => this.receive(data, from));
    while (this.routes.size > MAX_ROUTES) this.removeRoute(parseRouteKey(this.routes.keys().next().value!));
  }

  /** Ends the route to `remote` and closes its socket. */
  removeRoute(remote: Address): void {
    const key = routeKey(remote);
    const socket = this.routes.get(key);
    if (!socket) return;
    this.routes.delete(key);
    this.lastRoute = undefined;
    void socket.close().catch(() => {});
  }

  /** Routes over extra sockets. */
  get routeCount(): number {
    return this.routes.size;
  }

  /** Installs the time source of {@link RelayTransport.sentRecently} (the node's clock). */
  setClock(now: () => number): void {
    this.now = now;
  }

  /** True when a session datagram went to `address` within the last `withinMs`. */
  sentRecently(address: Address, withinMs: number): boolean {
    const at = this.recent.get(routeKey(address));
    return at !== undefined && this.now() - at <= withinMs;
  }

  /**
   * Registers a circuit this node is an end of; returns the virtual address of the peer behind it. With `opening`,
   * the circuit is still being set up: sends to it are held until {@link RelayTransport.openCircuit} (see
   * {@link RelayTransport.heldDatagrams}); what arrives through it is delivered already (the peer may answer first).
   */
  addCircuit(circuitIdHex: string, relay: Address, options: { opening?: boolean } = {}): Address {
    this.removeCircuit(circuitIdHex);
    const virtual = virtualAddress(circuitIdHex);
    const idBytes = hexToBytes(circuitIdHex);
    const header = relayedHeader(idBytes);
    const circuit: CircuitEnd = {
      idBytes,
      high: relayedIdHigh(header),
      low: relayedIdLow(header),
      header,
      relay: { ...relay },
      virtual,
      early: options.opening ? [] : undefined,
      received: 0,
      sent: 0,
    };
    this.circuits.set(circuitIdHex, circuit);
    const bucket = this.byLowWord.get(circuit.low);
    if (bucket) bucket.push(circuit);
    else this.byLowWord.set(circuit.low, [circuit]);
    this.byVirtualHost.set(virtual.host, circuit);
    return { ...virtual };
  }

  /** The datagrams held by a circuit being set up, oldest first (they stay held). */
  heldDatagrams(circuitIdHex: string): Uint8Array[] {
    return [...(this.circuits.get(circuitIdHex)?.early ?? [])];
  }

  /** Points a circuit (being set up) at another relay: the set-up is retried there. */
  retarget(circuitIdHex: string, relay: Address): void {
    const circuit = this.circuits.get(circuitIdHex);
    if (circuit) circuit.relay = { ...relay };
  }

  /** The circuit is open: held datagrams after the first `carried` (they rode the set-up) go out now, later sends at once. */
  openCircuit(circuitIdHex: string, carried: number): void {
    const circuit = this.circuits.get(circuitIdHex);
    if (!circuit?.early) return;
    const rest = circuit.early.slice(carried);
    circuit.early = undefined;
    for (const data of rest) this.send(circuit.virtual, data);
  }

  /** Delivers `data` upwards as if it had come through circuit `circuitIdHex` (a datagram the initiator put in the set-up message); dropped like any relayed datagram when malformed. */
  deliver(circuitIdHex: string, data: Uint8Array): void {
    const circuit = this.circuits.get(circuitIdHex);
    if (!circuit || data.length === 0 || data.length > MAX_RELAYED_INNER_SIZE || data[0] === PACKET_RELAYED) {
      this.counters.droppedInbound++;
      return;
    }
    this.counters.relayedIn++;
    this.handler(data, circuit.virtual);
  }

  /** Forgets a circuit; later sends to its virtual address are dropped. */
  removeCircuit(circuitIdHex: string): void {
    const circuit = this.circuits.get(circuitIdHex);
    if (!circuit) return;
    this.circuits.delete(circuitIdHex);
    if (this.byVirtualHost.get(circuit.virtual.host) === circuit) this.byVirtualHost.delete(circuit.virtual.host);
    const bucket = this.byLowWord.get(circuit.low)?.filter((other) => other !== circuit);
    if (bucket?.length) this.byLowWord.set(circuit.low, bucket);
    else this.byLowWord.delete(circuit.low);
    if (this.lastSent === circuit) this.lastSent = undefined;
    if (this.lastReceived === circuit) this.lastReceived = undefined;
  }

  /** Circuits this node is an end of. */
  get circuitCount(): number {
    return this.circuits.size;
  }

  /**
   * Datagrams a circuit carried each way since it was registered (not held sends, not deliver()); undefined when
   * unknown. The relay client tells circuits in use from idle ones by them (relay-circuit-table.ts).
   */
  circuitTraffic(circuitIdHex: string): { received: number; sent: number } | undefined {
    const circuit = this.circuits.get(circuitIdHex);
    return circuit && { received: circuit.received, sent: circuit.sent };
  }

  /** Routes inbound 0x13 datagrams with this ID (hex) to `handler` until the returned function is called. */
  claim(idHex: string, handler: DatagramHandler): () => void {
    this.claims.set(idHex, handler);
    return () => {
      if (this.claims.get(idHex) === handler) this.claims.delete(idHex);
    };
  }

  /** Installs the receiver of unclaimed 0x13 datagrams (the relay server). */
  setRelayFallback(fallback: RelayFallback | undefined): void {
    this.fallback = fallback;
  }

  /** See {@link Transport.onInternalError}: exceptions thrown by a claimant or the relay fallback go here. */
  onInternalError(handler: (error: unknown) => void): void {
    this.internalError = handler;
  }

  private remember(to: Address): void {
    const key = routeKey(to);
    const now = this.now();
    const at = this.recent.get(key);
    // Updating an entry in place keeps its place in the eviction order; moving it to the newest
    // end (delete and re-insert) once a second is enough, not on every datagram to it.
    if (at !== undefined && now - at < RECENT_REORDER_MS) {
      this.recent.set(key, now);
      return;
    }
    if (at !== undefined) this.recent.delete(key);
    this.recent.set(key, now);
    if (this.recent.size > MAX_RECENT_DESTINATIONS) this.recent.delete(this.recent.keys().next().value!);
  }

  private receive(data: Uint8Array, from: Address): void {
    if (data.length === 0 || data[0] !== PACKET_RELAYED) return this.handler(data, from);
    if (data.length < RELAY_HEADER_SIZE) {
      this.counters.droppedInbound++;
      return;
    }
    const circuit = this.circuitOf(data);
    if (circuit) {
      // Only the relay may speak for a circuit, and circuits do not nest.
      if (data.length === RELAY_HEADER_SIZE || data[RELAY_HEADER_SIZE] === PACKET_RELAYED || !sameAddress(from, circuit.relay)) {
        this.counters.droppedInbound++;
        return;
      }
      this.counters.relayedIn++;
      circuit.received++;
      // A plain view (not Buffer#subarray, which looks up a species constructor per call).
      return this.handler(new Uint8Array(data.buffer, data.byteOffset + RELAY_HEADER_SIZE, data.length - RELAY_HEADER_SIZE), circuit.virtual);
    }
    // Rare from here on (hole-punch probes, and datagrams a relay server forwards): string keys.
    const id = relayedIdHex(data)!;
    const claimant = this.claims.get(id);
    try {
      if (claimant) return claimant(data, from);
      if (!this.fallback?.(data, from, id)) this.counters.droppedInbound++;
    } catch (error) {
      // A bug in a claimant or the relay server: one datagram lost, the owner counts and logs it.
      if (this.internalError === undefined) throw error;
      this.counters.droppedInbound++;
      this.internalError(error);
    }
  }
}

function routeKey(address: Address): string {
  return `${address.port}|${address.host}`;
}

function parseRouteKey(key: string): Address {
  const bar = key.indexOf('|');
  return { host: key.slice(bar + 1), port: Number(key.slice(0, bar)) };
}
