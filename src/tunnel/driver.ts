/**
 * The tunnel IO driver: runs the handshake (whose two messages the caller carries,
 * normally inside session envelopes), creates {@link TunnelConnection}s bound to a
 * Transport and Clock, and demultiplexes inbound 0x12 datagrams by connection ID.
 */

import { EventEmitter } from 'eventemitter3';
import type { CryptoSuite, KeyPair } from '../crypto/types.js';
import { invalidArgument } from '../errors.js';
import type { Transport } from '../transport/types.js';
import type { Address } from '../util/address.js';
import type { Clock } from '../util/clock.js';
import { resolveTunnelConfig, type TunnelConfig } from './config.js';
import { Connection } from './connection.js';
import { CID_LENGTH, HandshakeInitiator, handshakeIdentity, readHandshakeInit, type HandshakeIdentity, type TunnelKeys } from './handshake.js';
import { HEADER_LENGTH, TAG_LENGTH, TUNNEL_PACKET_TYPE, cidKey, packetCidKey } from './packet.js';
import { TunnelConnection } from './tunnel-connection.js';

/** Options of {@link TunnelDriver}. */
export interface TunnelDriverOptions {
  /** Where datagrams go (and, with `listen`, come from). */
  transport: Transport;
  /** Time source for every timer. */
  clock: Clock;
  /** Crypto primitives. */
  suite: CryptoSuite;
  /** This node's Ed25519 identity. */
  identity: KeyPair;
  /** Connection limits; see {@link TunnelConfig}. */
  config?: Partial<TunnelConfig>;
  /** Install the transport's datagram handler (standalone use). Default false: the owner calls {@link TunnelDriver.handleDatagram}. */
  listen?: boolean;
  /** Most live connections (default 1024); beyond it handshakes are refused. */
  maxConnections?: number;
}

/** An initiated handshake waiting for the responder's answer. */
export interface PendingTunnel {
  /** The init message to deliver to the responder (resend the same bytes on retry). */
  readonly message: Uint8Array;
  /** Completes the handshake with the responder's answer; null when it does not authenticate. */
  complete(response: Uint8Array): { connection: TunnelConnection; payload: Uint8Array } | null;
}

/** Events of a {@link TunnelDriver}. */
export interface TunnelDriverEvents {
  /** A peer completed a handshake with us. */
  connection: [connection: TunnelConnection, payload: Uint8Array];
}

/** Remembered answers to init messages, so a retransmitted init gets the same answer. */
const ANSWER_CACHE = 256;

/** Owns the tunnel connections of one node. */
export class TunnelDriver extends EventEmitter<TunnelDriverEvents> {
  private readonly transport: Transport;
  private readonly clock: Clock;
  private readonly suite: CryptoSuite;
  private readonly identity: HandshakeIdentity;
  private readonly config: TunnelConfig;
  private readonly maxConnections: number;
  private readonly byCid = new Map<string, TunnelConnection>();
  private readonly answers = new Map<string, { response: Uint8Array; connection: TunnelConnection }>();
  private closed = false;
  /** The connection the previous datagram went to (dropped when that connection is). */
  private lastMatch: { cid: Uint8Array; connection: TunnelConnection } | null = null;
  /** Datagrams dropped because no connection matched. */
  unmatched = 0;

  constructor(options: TunnelDriverOptions) {
    if (!options?.transport || !options.clock || !options.suite || !options.identity) {
      throw invalidArgument('options', 'transport, clock, suite and identity are required');
    }
    super();
    this.transport = options.transport;
    this.clock = options.clock;
    this.suite = options.suite;
    this.identity = handshakeIdentity(options.suite, options.identity);
    this.config = resolveTunnelConfig(options.config);
    this.maxConnections = options.maxConnections ?? 1024;
    if (options.listen) this.transport.onDatagram((data, from) => this.handleDatagram(data, from));
  }

  /** Live connections. */
  get connections(): TunnelConnection[] {
    return [...this.byCid.values()];
  }

  /** A live connection to `peer` (node ID), if any. */
  connectionTo(peer: Uint8Array): TunnelConnection | undefined {
    for (const connection of this.byCid.values()) {
      if (!connection.closed && equal(connection.peer, peer)) return connection;
    }
    return undefined;
  }

  /**
   * Starts a handshake with `peer` at `address`. `payload` (at most 512 bytes) reaches the
   * responder's accept decision, e.g. the service name. Throws ERR_CRYPTO for an invalid node ID.
   */
  initiate(peer: Uint8Array, address: Address, payload?: Uint8Array): PendingTunnel {
    if (!(peer instanceof Uint8Array) || peer.length !== 32) throw invalidArgument('peer', 'must be a 32-byte node ID');
    const cid = this.freshCid();
    const initiator = new HandshakeInitiator(this.suite, this.identity, peer, cid, payload);
    const started = this.clock.now();
    return {
      message: initiator.message,
      complete: (response) => {
        if (this.closed) return null;
        const result = initiator.finish(response);
        if (result === null) return null;
        const rtt = Math.max(1, this.clock.now() - started);
        const connection = this.adopt(result.keys, address, { initialRttMs: rtt });
        return { connection, payload: result.payload };
      },
    };
  }

  /**
   * Answers an init message. `decide` sees the authenticated initiator and its payload and
   * returns the answer payload, or null to refuse. Returns null (never throws) for
   * malformed or unauthenticated messages, refusals and when at the connection limit.
   */
  accept(
    message: Uint8Array,
    from: Address,
    decide: (peer: Uint8Array, payload: Uint8Array) => Uint8Array | null = () => new Uint8Array(0),
  ): { response: Uint8Array; connection: TunnelConnection; payload: Uint8Array } | null {
    if (this.closed) return null;
    const init = readHandshakeInit(this.suite, this.identity, message);
    if (init === null) return null;
    const key = cidKey(init.ephemeral);
    const cached = this.answers.get(key);
    if (cached !== undefined) return { response: cached.response, connection: cached.connection, payload: init.payload };
    if (this.byCid.size >= this.maxConnections) return null;
    const answer = decide(init.peer, init.payload);
    if (answer === null) return null;
    const { response, keys } = init.accept(this.freshCid(), answer);
    const connection = this.adopt(keys, from, {});
    this.answers.set(key, { response, connection });
    if (this.answers.size > ANSWER_CACHE) this.answers.delete(this.answers.keys().next().value!);
    this.emit('connection', connection, init.payload);
    return { response, connection, payload: init.payload };
  }

  /** Routes an inbound datagram; returns true when it was a tunnel packet for a known connection. */
  handleDatagram(data: Uint8Array, from: Address): boolean {
    // Datagrams come in runs for the same connection: compare 8 bytes with the last
    // match before building a hex map key.
    const last = this.lastMatch;
    let connection: TunnelConnection | undefined;
    if (last !== null && data.length >= HEADER_LENGTH + TAG_LENGTH && sameCid(data, last.cid)) {
      connection = last.connection;
    } else {
      const key = packetCidKey(data);
      connection = key === null ? undefined : this.byCid.get(key);
      if (connection !== undefined) this.lastMatch = { cid: data.slice(1, 1 + CID_LENGTH), connection };
    }
    if (connection === undefined) {
      this.unmatched++;
      return false;
    }
    // The transport may reuse `data` after we return; the connection keeps views of the plaintext only.
    connection.receive(data, from);
    return true;
  }

  /** Closes every connection (CLOSE frames go out) and stops accepting; leaves no timer behind. */
  // eslint-disable-next-line @typescript-eslint/require-await -- async in the interface: a transport-owning driver may wait
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const connection of [...this.byCid.values()]) connection.close();
    this.byCid.clear();
    this.lastMatch = null;
    this.answers.clear();
  }

  private adopt(keys: TunnelKeys, address: Address, overrides: Partial<TunnelConfig>): TunnelConnection {
    const core = new Connection(this.suite, keys, this.clock.now(), { ...this.config, ...overrides });
    const key = cidKey(keys.localCid);
    const connection = new TunnelConnection(
      core,
      address,
      this.clock,
      (to, data) => this.transport.send(to, data),
      (c) => {
        if (this.byCid.get(key) === c) this.byCid.delete(key);
        if (this.lastMatch?.connection === c) this.lastMatch = null;
        for (const [k, answer] of this.answers) if (answer.connection === c) this.answers.delete(k);
      },
    );
    this.byCid.set(key, connection);
    return connection;
  }

  private freshCid(): Uint8Array {
    for (;;) {
      const cid = this.suite.randomBytes(CID_LENGTH);
      if (!this.byCid.has(cidKey(cid))) return cid;
    }
  }
}

/** True when the datagram's destination connection ID (bytes 1..8) equals `cid`. */
function sameCid(datagram: Uint8Array, cid: Uint8Array): boolean {
  for (let i = 0; i < CID_LENGTH; i++) if (datagram[1 + i] !== cid[i]) return false;
  return datagram[0] === TUNNEL_PACKET_TYPE;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
