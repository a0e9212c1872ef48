/**
 * The NAT module's transport seam: a {@link Transport} decorator the node puts
 * between its socket and the session/tunnel layers.
 *
 * - Sends to a circuit's virtual address go out wrapped (`0x13 | circuit ID | datagram`)
 *   to the circuit's relay; sends to real addresses pass through.
 * - Inbound `0x13` datagrams are demultiplexed by their 8-byte ID: a circuit we are an
 *   end of is unwrapped and delivered upwards *from the virtual address* (so replies
 *   go back through the relay by themselves); a claimed ID (hole-punch probes) goes
 *   to its claimant; anything else goes to the relay server, when this node is one.
 * - Sends to an address with a route (a hole-punched path that runs over an extra
 *   socket, {@link RelayTransport.addRoute}) go out on that socket; what arrives on it
 *   is delivered upwards like datagrams of the main socket.
 * - Everything else passes through untouched.
 *
 * It also remembers, bounded, where session datagrams went lately
 * ({@link RelayTransport.sentRecently}): a dial-back probe from such an address proves
 * nothing about reachability, since our NAT holds a mapping towards it.
 *
 * Bad input never throws: it is dropped and counted in {@link RelayTransport.counters}.
 */
import type { Address } from '../util/address.js';
import { sameAddress } from '../util/address.js';
import type { DatagramHandler, Transport } from '../transport/types.js';
import { PACKET_RELAYED, PACKET_SESSION } from '../wire/constants.js';
import { hexToBytes } from '../util/bytes.js';
import { MAX_RELAYED_INNER_SIZE, RELAY_HEADER_SIZE, circuitIdOf, encodeRelayed, relayedIdHex, virtualAddress } from './relay-packet.js';

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
}

/** Receives 0x13 datagrams whose ID nobody else claimed (the relay server). Returns false to drop. */
export type RelayFallback = (data: Uint8Array, from: Address) => boolean;

/** Routes (extra sockets) at most; the oldest is closed beyond. */
const MAX_ROUTES = 64;
/** Recent session destinations remembered. */
const MAX_RECENT_DESTINATIONS = 1024;

interface CircuitEnd {
  idBytes: Uint8Array;
  relay: Address;
  virtual: Address;
}

/** Transport decorator that adds relay circuits and 0x13 demultiplexing. */
export class RelayTransport implements Transport {
  /** Traffic and drop counters. */
  readonly counters: RelayTransportCounters = { relayedOut: 0, relayedIn: 0, droppedNoCircuit: 0, droppedOversized: 0, droppedInbound: 0 };
  private handler: DatagramHandler = () => {};
  private readonly circuits = new Map<string, CircuitEnd>();
  private readonly claims = new Map<string, DatagramHandler>();
  private fallback: RelayFallback | undefined;
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
    this.circuits.clear();
    this.claims.clear();
    const routes = [...this.routes.values()];
    this.routes.clear();
    this.recent.clear();
    await Promise.all(routes.map((socket) => socket.close().catch(() => {})));
    await this.inner.close();
  }

  onDatagram(handler: DatagramHandler): void {
    this.handler = handler;
  }

  send(to: Address, data: Uint8Array): void {
    const id = circuitIdOf(to);
    if (id === undefined) {
      if (data[0] === PACKET_SESSION) this.remember(to);
      if (this.routes.size > 0) {
        const route = this.routes.get(routeKey(to));
        if (route) return route.send(to, data);
      }
      return this.inner.send(to, data);
    }
    const circuit = this.circuits.get(id);
    if (!circuit) {
      this.counters.droppedNoCircuit++;
      return;
    }
    if (data.length > MAX_RELAYED_INNER_SIZE) {
      this.counters.droppedOversized++;
      return;
    }
    this.counters.relayedOut++;
    this.inner.send(circuit.relay, encodeRelayed(circuit.idBytes, data));
  }

  /** Sends on the real socket even to a virtual-looking address (never used for circuits). */
  sendDirect(to: Address, data: Uint8Array): void {
    this.inner.send(to, data);
  }

  /**
   * Sends to `remote` go out on `socket` from now on (an extra socket that a hole punch
   * opened), and what arrives on it is delivered like main-socket datagrams. The
   * transport owns the socket: {@link RelayTransport.removeRoute} or close() closes it.
   */
  addRoute(remote: Address, socket: Transport): void {
    const key = routeKey(remote);
    const previous = this.routes.get(key);
    if (previous === socket) return;
    if (previous) void previous.close().catch(() => {});
    this.routes.set(key, socket);
    socket.onDatagram((data, from) => this.receive(data, from));
    while (this.routes.size > MAX_ROUTES) this.removeRoute(parseRouteKey(this.routes.keys().next().value!));
  }

  /** Ends the route to `remote` and closes its socket. */
  removeRoute(remote: Address): void {
    const key = routeKey(remote);
    const socket = this.routes.get(key);
    if (!socket) return;
    this.routes.delete(key);
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

  /** Registers a circuit this node is an end of; returns the virtual address of the peer behind it. */
  addCircuit(circuitIdHex: string, relay: Address): Address {
    const virtual = virtualAddress(circuitIdHex);
    this.circuits.set(circuitIdHex, { idBytes: hexToBytes(circuitIdHex), relay: { ...relay }, virtual });
    return { ...virtual };
  }

  /** Forgets a circuit; later sends to its virtual address are dropped. */
  removeCircuit(circuitIdHex: string): void {
    this.circuits.delete(circuitIdHex);
  }

  /** Circuits this node is an end of. */
  get circuitCount(): number {
    return this.circuits.size;
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

  private remember(to: Address): void {
    const key = routeKey(to);
    this.recent.delete(key); // re-insert: newest last
    this.recent.set(key, this.now());
    if (this.recent.size > MAX_RECENT_DESTINATIONS) this.recent.delete(this.recent.keys().next().value!);
  }

  private receive(data: Uint8Array, from: Address): void {
    if (data.length === 0 || data[0] !== PACKET_RELAYED) return this.handler(data, from);
    const id = relayedIdHex(data);
    if (id === null) {
      this.counters.droppedInbound++;
      return;
    }
    const circuit = this.circuits.get(id);
    if (circuit) {
      const inner = data.subarray(RELAY_HEADER_SIZE);
      // Only the relay may speak for a circuit, and circuits do not nest.
      if (!sameAddress(from, circuit.relay) || inner.length === 0 || inner[0] === PACKET_RELAYED) {
        this.counters.droppedInbound++;
        return;
      }
      this.counters.relayedIn++;
      return this.handler(inner, circuit.virtual);
    }
    const claimant = this.claims.get(id);
    if (claimant) return claimant(data, from);
    if (!this.fallback?.(data, from)) this.counters.droppedInbound++;
  }
}

function routeKey(address: Address): string {
  return `${address.port}|${address.host}`;
}

function parseRouteKey(key: string): Address {
  const bar = key.indexOf('|');
  return { host: key.slice(bar + 1), port: Number(key.slice(0, bar)) };
}
