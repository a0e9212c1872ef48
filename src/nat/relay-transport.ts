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
 * - Everything else passes through untouched.
 *
 * Bad input never throws: it is dropped and counted in {@link RelayTransport.counters}.
 */
import type { Address } from '../util/address.js';
import { sameAddress } from '../util/address.js';
import type { DatagramHandler, Transport } from '../transport/types.js';
import { PACKET_RELAYED } from '../wire/constants.js';
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

  close(): Promise<void> {
    this.circuits.clear();
    this.claims.clear();
    return this.inner.close();
  }

  onDatagram(handler: DatagramHandler): void {
    this.handler = handler;
  }

  send(to: Address, data: Uint8Array): void {
    const id = circuitIdOf(to);
    if (id === undefined) return this.inner.send(to, data);
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
