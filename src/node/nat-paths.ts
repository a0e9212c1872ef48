/**
 * The relayed path of `connect()` and its upgrade (part of the node's NAT glue, see
 * src/node/nat.ts): a circuit through one of the provider's relays (or ours) carries the
 * tunnel at once. The hole-punch offer and the tunnel handshake are sent into the circuit
 * before its set-up leaves, so both ride the set-up to the provider (one relayed trip for
 * circuit, handshake and rendezvous together), and we probe the provider's listed
 * addresses from the start. On success both ends move the tunnel connection onto the
 * punched path without breaking its streams:
 *
 * - the connection's `address` changes (plus a RelayTransport route when the path runs
 *   over an extra "birthday" socket);
 * - relayed datagrams still in flight count as from the new path ({@link NatPaths.tunnelSource}),
 *   so a late one cannot pull the connection back;
 * - the move stays on probation until a tunnel datagram arrives on the direct path (a punch
 *   can succeed on one side only); without one the connection returns to the circuit;
 * - once confirmed, the circuit is closed after a linger. Failed punches are retried, bounded.
 */
import { EventEmitter } from 'eventemitter3';
import type { Address } from '../util/address.js';
import { sameAddress } from '../util/address.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { bytesToHex, hexToBytes } from '../util/bytes.js';
import type { Logger } from '../util/logger.js';
import type { Contact } from '../kademlia/types.js';
import type { TunnelDriver } from '../tunnel/driver.js';
import type { TunnelConnection } from '../tunnel/tunnel-connection.js';
import type { NatControl } from '../nat/nat-service.js';
import type { RelayTransport } from '../nat/relay-transport.js';
import type { OpeningCircuit } from '../nat/relay-client.js';
import type { NatPeer } from '../nat/types.js';
import type { PunchResult } from '../nat/holepunch.js';
import { circuitIdOf, isVirtualAddress } from '../nat/relay-packet.js';
import type { TunnelPath, TunnelPaths } from './tunnel-service-types.js';

/** What {@link NatPaths} needs from the node. */
export interface NatPathsContext {
  service: NatControl;
  transport: RelayTransport;
  clock: Clock;
  tunnels: TunnelDriver;
  logger: Logger;
  /** False once the node stops. */
  running: () => boolean;
  /** Upgrade relayed connections by hole punching. Default true. */
  punch?: boolean | undefined;
}

/** Events of {@link NatPaths}. */
export interface NatPathsEvents {
  /** A relayed tunnel connection moved to a direct path (on probation until traffic confirms it). */
  upgraded: (peerHex: string, address: Address) => void;
}

/** Outcomes of connects. */
export interface ConnectCounts {
  /** Tunnels set up directly at a listed address. */
  direct: number;
  /** Tunnels set up through a relay circuit. */
  relayed: number;
  /** Relayed tunnels this node moved to a hole-punched path. */
  punched: number;
  /** Punch attempts that failed (or whose path did not carry traffic). */
  punchFailed: number;
}

/** A relay circuit as {@link TunnelPaths} hands it around. */
interface RelayedPath extends TunnelPath {
  circuit: OpeningCircuit;
  /** Where the provider listed itself (probed at once, and again on retries). */
  known: Address[];
  /** The first hole punch, started with the circuit; undefined when punching is off. */
  punch: Promise<PunchResult | undefined> | undefined;
  /** Ends that punch when the path is given up. */
  stopPunch: AbortController;
}

/** Relayed datagrams still in flight after a move to a direct path: keep the circuit this long. */
const CIRCUIT_LINGER_MS = 10_000;
/** A moved connection goes back to its circuit unless a datagram arrives on the direct path within this. */
const PROBATION_MS = 3000;
/** How long a punch result waits for the tunnel handshake that runs alongside it. */
const PENDING_PUNCH_MS = 5000;
/** Hole-punch attempts per relayed connection, and the pause before a retry. */
const PUNCH_ATTEMPTS = 3;
const PUNCH_RETRY_MS = 30_000;
/** Circuits remembered per peer on the accepting side (to follow a punch). */
const MAX_INCOMING_CIRCUITS = 256;

/** Relayed paths and their upgrade to direct ones. */
export class NatPaths extends EventEmitter<NatPathsEvents> implements TunnelPaths {
  /** Outcomes of connects (live object). */
  readonly counts: ConnectCounts = { direct: 0, relayed: 0, punched: 0, punchFailed: 0 };
  /** Virtual address (of a circuit a connection left) -> the direct address it moved to. */
  private readonly moved = new Map<string, Address>();
  /** Moved connections not yet confirmed by a datagram on the direct path: direct address -> commit. */
  private readonly probation = new Map<string, { commit: () => void; timer: TimerHandle }>();
  /** Punches we answered that finished before the tunnel over their circuit came up. */
  private readonly pendingPunches = new Map<string, { result: PunchResult; timer: TimerHandle }>();
  /** Accepted circuits: virtual address -> peer ID (hex). */
  private readonly incoming = new Map<string, string>();

  constructor(private readonly context: NatPathsContext) {
    super();
    context.service.on('punched', (result) => {
      if (!result.initiator) this.followPunch(result);
    });
    context.tunnels.on('connection', (connection) => this.onAccepted(connection));
    context.service.on('circuit', (circuit) => {
      this.incoming.set(addressKey(circuit.address), bytesToHex(circuit.peer));
      if (this.incoming.size > MAX_INCOMING_CIRCUITS) this.incoming.delete(this.incoming.keys().next().value!);
    });
  }

  /**
   * The source a tunnel datagram is attributed to: relayed datagrams of a connection that
   * moved to a direct path count as from that path, so late ones do not move it back.
   */
  tunnelSource(from: Address): Address {
    if (this.moved.size === 0) return from;
    if (!isVirtualAddress(from)) {
      if (this.probation.size > 0) this.probation.get(addressKey(from))?.commit();
      return from;
    }
    return this.moved.get(addressKey(from)) ?? from;
  }

  /**
   * A circuit to the provider through one of its relays, or ours. Its set-up leaves on
   * `open()`: what is sent to `address` before (the hole-punch offer, sent here, and the
   * caller's tunnel handshake) rides it.
   */
  // eslint-disable-next-line @typescript-eslint/require-await -- async so that a throw from openCircuit (no route) rejects
  async relayed(provider: { nodeId: Uint8Array; addresses: Address[]; relays: Contact[] }, signal?: AbortSignal): Promise<TunnelPath> {
    const circuit = this.context.service.openCircuit(
      { id: provider.nodeId, addresses: provider.addresses, relays: provider.relays, reachable: provider.relays.length > 0 ? false : undefined },
      signal,
    );
    const stopPunch = new AbortController();
    const known = provider.addresses;
    const punch = this.context.punch !== false ? this.tryPunch({ id: circuit.peer, address: circuit.address }, known, stopPunch.signal) : undefined;
    const path: RelayedPath = {
      address: circuit.address,
      relayed: true,
      circuit,
      known,
      punch,
      stopPunch,
      open: () =>
        circuit.launch().then(
          () => undefined,
          (error: unknown) => {
            stopPunch.abort();
            throw error;
          },
        ),
    };
    return path;
  }

  /** A tunnel came up; a relayed one moves to the punched path when (or once) the punch succeeds. */
  connected(connection: TunnelConnection, path: TunnelPath | undefined): void {
    if (!path?.relayed) {
      this.counts.direct++;
      return;
    }
    this.counts.relayed++;
    const relayed = path as RelayedPath;
    const virtual = { ...relayed.circuit.address };
    connection.once('close', () => this.release(virtual));
    void relayed.punch?.then((result) => this.afterPunch(connection, relayed, result, 1));
  }

  /** The tunnel handshake over a relayed `path` failed: its punch stops, a punched socket nobody will use is closed, the circuit is dropped. */
  abandon(path: TunnelPath): void {
    const relayed = path as RelayedPath;
    relayed.stopPunch.abort();
    relayed.circuit.cancel();
    void relayed.punch?.then((result) => result?.transport?.close().catch(() => {}));
  }

  /** Forgets every pending move (the node stops). */
  stop(): void {
    for (const peerHex of [...this.pendingPunches.keys()]) this.dropPending(peerHex);
    this.moved.clear();
    this.incoming.clear();
    this.probation.clear();
  }

  // ---- internals ----

  /** One hole punch to `peer` (at a circuit's virtual address); undefined when it failed. */
  private tryPunch(peer: NatPeer, known: Address[], signal?: AbortSignal): Promise<PunchResult | undefined> {
    return this.context.service.punch(peer, { known, ...(signal ? { signal } : {}) }).then(
      (result) => result,
      (error: Error) => {
        if (!signal?.aborted) this.counts.punchFailed++;
        this.context.logger.debug(`hole punch to ${bytesToHex(peer.id).slice(0, 8)} failed: ${error.message}`);
        return undefined;
      },
    );
  }

  /** Moves the connection on success; after a failure, tries again later (bounded). */
  private afterPunch(connection: TunnelConnection, path: RelayedPath, result: PunchResult | undefined, attempt: number): void {
    const virtual = path.circuit.address;
    if (result) {
      this.move(connection, virtual, result);
      return;
    }
    if (attempt >= PUNCH_ATTEMPTS || !this.context.running() || connection.closed) return;
    const timer = this.context.clock.setTimeout(() => {
      if (!this.context.running() || connection.closed || !sameAddress(connection.address, virtual)) return;
      void this.tryPunch({ id: path.circuit.peer, address: virtual }, path.known).then((next) => this.afterPunch(connection, path, next, attempt + 1));
    }, PUNCH_RETRY_MS * attempt);
    connection.once('close', () => this.context.clock.clearTimeout(timer));
  }

  /** The tunnel connection that runs over a circuit accepted from `peerHex`, if any. */
  private acceptedConnection(peerHex: string): TunnelConnection | undefined {
    const connection = this.context.tunnels.connectionTo(hexToBytes(peerHex));
    if (!connection || !isVirtualAddress(connection.address) || this.incoming.get(addressKey(connection.address)) !== peerHex) return undefined;
    return connection;
  }

  /**
   * The accepting side of a punch: move the tunnel connection that runs over the circuit.
   * Its handshake may still be on the way through the relay: then the result waits briefly.
   */
  private followPunch(result: PunchResult): void {
    const connection = this.acceptedConnection(result.peer);
    if (connection) return this.move(connection, connection.address, result);
    this.dropPending(result.peer);
    const timer = this.context.clock.setTimeout(() => this.dropPending(result.peer), PENDING_PUNCH_MS);
    this.pendingPunches.set(result.peer, { result, timer });
  }

  /** A tunnel handshake completed on our side: apply a punch that finished before it. */
  private onAccepted(connection: TunnelConnection): void {
    if (isVirtualAddress(connection.address) && this.incoming.has(addressKey(connection.address))) {
      const virtual = { ...connection.address };
      connection.once('close', () => this.release(virtual));
    }
    const peerHex = bytesToHex(connection.peer);
    const pending = this.pendingPunches.get(peerHex);
    if (!pending || this.acceptedConnection(peerHex) !== connection) return;
    this.context.clock.clearTimeout(pending.timer);
    this.pendingPunches.delete(peerHex);
    this.move(connection, connection.address, pending.result);
  }

  /**
   * The tunnel over the circuit at `virtual` closed: the circuit goes too, at once, rather
   * than holding a place in the relay client's table until it idles out (2 min). Safe when
   * a punch move already closed it.
   */
  private release(virtual: Address): void {
    // Two connections may share a circuit (a handshake repeated while the circuit opened):
    // the circuit stays while any of them is open.
    if (this.context.tunnels.connections.some((connection) => !connection.closed && sameAddress(connection.address, virtual))) return;
    const key = addressKey(virtual);
    this.moved.delete(key);
    this.incoming.delete(key);
    const id = circuitIdOf(virtual);
    if (id !== undefined) this.context.service.closeCircuit(id);
  }

  private dropPending(peerHex: string): void {
    const pending = this.pendingPunches.get(peerHex);
    if (!pending) return;
    this.context.clock.clearTimeout(pending.timer);
    this.pendingPunches.delete(peerHex);
    void pending.result.transport?.close().catch(() => {});
  }

  /**
   * Moves `connection` from circuit `virtual` to the punched path; streams carry on. The
   * move is on probation until a tunnel datagram arrives on the direct path: a punch can
   * succeed on one side only (the other's attempt timed out and closed its sockets), and
   * then the connection goes back to the circuit rather than into a dead path.
   */
  private move(connection: TunnelConnection, virtual: Address, result: PunchResult): void {
    const { transport, clock } = this.context;
    if (connection.closed || !this.context.running()) {
      if (result.transport) void result.transport.close().catch(() => {});
      return;
    }
    if (result.initiator) this.counts.punched++;
    const direct = { ...result.address };
    if (result.transport) {
      transport.addRoute(direct, result.transport);
      connection.once('close', () => transport.removeRoute(direct));
    }
    const key = addressKey(virtual);
    this.moved.set(key, direct);
    connection.address = direct;
    this.emit('upgraded', result.peer, direct);
    this.context.logger.debug(`tunnel to ${result.peer.slice(0, 8)} moved to ${direct.host}:${direct.port}${result.transport ? ' (extra socket)' : ''}`);
    const directKey = addressKey(direct);
    const commit = (): void => {
      clock.clearTimeout(probation.timer);
      this.probation.delete(directKey);
      clock.setTimeout(() => this.release(virtual), CIRCUIT_LINGER_MS);
    };
    const probation = {
      commit,
      timer: clock.setTimeout(() => {
        this.probation.delete(directKey);
        this.moved.delete(key);
        if (connection.closed || !sameAddress(connection.address, direct)) return;
        // Nothing came back on the direct path: back to the circuit (the route stays, should the peer's packets come later).
        connection.address = { ...virtual };
        if (result.initiator) {
          this.counts.punched--;
          this.counts.punchFailed++;
        }
        this.context.logger.debug(`tunnel to ${result.peer.slice(0, 8)}: nothing arrived on the punched path, back to the relay`);
      }, PROBATION_MS),
    };
    this.probation.get(directKey)?.commit();
    this.probation.set(directKey, probation);
  }
}

function addressKey(address: Address): string {
  return `${address.host}|${address.port}`;
}
