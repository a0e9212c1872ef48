/**
 * Tunnels as the node offers them: `connect` (one stream to a provider, with load
 * balancing and failover), incoming streams routed to registered services (an
 * in-process handler or a TCP bridge), and `forward` (a local TCP port whose every
 * connection becomes one stream).
 *
 * Streams share one forward-secret connection per peer pair. Each stream starts with
 * a small header naming its service (service-streams.ts), written before any
 * user data, so opening a stream on an existing connection costs no round trip; the
 * provider resets streams for services it does not offer.
 */
import { connect as tcpConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { MccError, invalidArgument, throwIfAborted } from '../errors.js';
import type { Address } from '../util/address.js';
import { formatAddress } from '../util/address.js';
import { bytesToHex, hexToBytes } from '../util/bytes.js';
import type { InboundMessage } from '../session/session.js';
import type { TunnelConnection } from '../tunnel/tunnel-connection.js';
import type { TunnelStream } from '../tunnel/stream.js';
import type { Contact } from '../kademlia/types.js';
import type { Strategy } from '../discovery/load-balancing.js';
import { encodeServiceName } from '../discovery/service-name.js';
import { RemoteErrorCode } from '../wire/registry.js';
import { bridge, readStreamHeader, streamHeader } from './service-streams.js';
import { ACCEPT_OK, decodeInitPayload, encodeAcceptPayload, encodeInitPayload } from './handshake-payload.js';
import type { ForwardInfo } from './introspection.js';
import type { ConnectOptions, TunnelServiceContext } from './tunnel-service-types.js';
import { ForwardHandle, type Forward, type ForwardOpener, type ForwardOptions } from './forward.js';
import { deadlineSignal, sleep, waitFor, type SharedHandshake } from './connect-waits.js';

/** Per-address budget of a tunnel handshake before the next address of a provider is tried. */
const HANDSHAKE_TIMEOUT_MS = 3000;
/** Default total budget of a connect to a service, ms. */
const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
/** First pause before a connect whose providers all failed looks them up again, ms (doubling). */
const RELOOKUP_PAUSE_MS = 100;
const MAX_RELOOKUP_PAUSE_MS = 2_000;
/** Bounds of the stagger between parallel attempts on different providers, ms. */
const MIN_STAGGER_MS = 25;
const MAX_STAGGER_MS = 1_000;
const NODE_ID_HEX = /^[0-9a-f]{64}$/i;

/** Connect, serve and forward over tunnels. One per node. */
export class TunnelService implements ForwardOpener {
  private readonly forwards = new Set<ForwardHandle>();
  private readonly connecting = new Map<string, SharedHandshake>();

  constructor(private readonly context: TunnelServiceContext) {
    context.rpc.handle('tunnelInit', (request) => this.acceptHandshake(request));
    context.driver.on('connection', (connection) => this.serve(connection));
  }

  /** A stream to a provider of `target` (a service name, or a node ID with `options.service`). */
  async connect(target: string, options: ConnectOptions = {}): Promise<Duplex> {
    if (typeof target !== 'string' || target.length === 0) throw invalidArgument('target', 'expected a service name or a node ID');
    throwIfAborted(options.signal);
    if (NODE_ID_HEX.test(target)) {
      if (typeof options.service !== 'string') throw invalidArgument('service', 'connecting to a node ID needs the service name');
      encodeServiceName(options.service);
      const nodeId = hexToBytes(target);
      const address = this.context.addressOf(nodeId);
      if (!address) throw new MccError('ERR_UNREACHABLE', `no known address for node ${target.slice(0, 16)}…`);
      return this.openStream(nodeId, [address], [], options.service, options.signal);
    }
    encodeServiceName(target);
    const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    if (!(timeoutMs > 0)) throw invalidArgument('timeoutMs', 'expected a positive number of ms');
    const budget = deadlineSignal(this.context.clock, timeoutMs, options.signal);
    try {
      return await this.connectToService(target, options, budget.signal);
    } catch (error) {
      if (budget.expired() && !options.signal?.aborted)
        throw new MccError('ERR_TIMEOUT', `no provider of "${target}" answered within ${timeoutMs} ms`, { cause: error });
      throw error;
    } finally {
      budget.dispose();
    }
  }

  /**
   * Tries providers until one answers or `signal` ends: when every provider of a lookup
   * failed, the service is looked up again (fresh) after a short pause, since records of
   * dead providers linger until they expire while live ones may have appeared.
   */
  private async connectToService(target: string, options: ConnectOptions, signal: AbortSignal): Promise<Duplex> {
    let fresh = false;
    let pauseMs = RELOOKUP_PAUSE_MS;
    for (;;) {
      const providers = await this.context.lookup(target, signal, fresh);
      if (providers.length === 0) throw new MccError('ERR_NOT_FOUND', `no provider of "${target}" found`);
      try {
        const { result } = await this.context.failover.run(
          providers,
          (provider, attemptSignal) => this.openStream(provider.nodeId, provider.addresses, provider.relays, target, attemptSignal),
          {
            strategy: options.strategy ?? this.context.defaultStrategy(),
            service: target,
            staggerMs: (provider) => this.staggerMs(provider.nodeId),
            discard: (stream) => (stream as TunnelStream).destroy(),
            signal,
            ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
          },
        );
        return result;
      } catch (error) {
        if (signal.aborted || options.maxAttempts !== undefined || !(error instanceof MccError) || error.code !== 'ERR_UNREACHABLE') throw error;
        await sleep(this.context.clock, pauseMs, signal).catch(() => {
          throw error;
        });
        pauseMs = Math.min(pauseMs * 2, MAX_RELOOKUP_PAUSE_MS);
        fresh = true;
      }
    }
  }

  /**
   * How long an attempt on a provider runs alone before the next provider is tried beside
   * it: a few round trips when we have measured them, else the RPC layer's initial timeout.
   */
  private staggerMs(nodeId: Uint8Array): number {
    const rtt = this.context.rpc.rtt(nodeId);
    if (rtt === undefined) return Math.min(this.context.rpc.rto(nodeId), MAX_STAGGER_MS);
    return Math.min(MAX_STAGGER_MS, Math.max(MIN_STAGGER_MS, 4 * rtt));
  }

  /** Opens a local TCP listener; each accepted connection becomes one stream to a provider of `name`. */
  async forward(name: string, options: ForwardOptions): Promise<Forward> {
    encodeServiceName(name);
    if (!options || !Number.isInteger(options.port) || options.port < 0 || options.port > 65535) throw invalidArgument('port', 'expected an integer 0..65535');
    throwIfAborted(options.signal);
    const handle = new ForwardHandle(name, options, this, () => this.forwards.delete(handle));
    await handle.listen();
    if (options.signal?.aborted) {
      await handle.close();
      throwIfAborted(options.signal);
    }
    this.forwards.add(handle);
    return handle;
  }

  /** The forwards currently listening. */
  forwardList(): ForwardInfo[] {
    return [...this.forwards].map((forward) => forward.info());
  }

  /** Closes the forward listening on local `port`; false when there is none. */
  async closeForward(port: number): Promise<boolean> {
    const forward = [...this.forwards].find((candidate) => candidate.address.port === port);
    if (!forward) return false;
    await forward.close();
    return true;
  }

  /** Closes every forward (the driver closes the connections). */
  async close(): Promise<void> {
    await Promise.all([...this.forwards].map((forward) => forward.close()));
  }

  private async openStream(nodeId: Uint8Array, addresses: Address[], relays: Contact[], service: string, signal?: AbortSignal): Promise<TunnelStream> {
    const connection = await this.connectionTo(nodeId, addresses, relays, service, signal);
    const stream = connection.openStream();
    stream.write(streamHeader(service));
    return stream;
  }

  /** The open connection to a peer, or a new one (concurrent callers share one handshake). */
  private async connectionTo(nodeId: Uint8Array, addresses: Address[], relays: Contact[], service: string, signal?: AbortSignal): Promise<TunnelConnection> {
    const existing = this.context.driver.connectionTo(nodeId);
    if (existing && !existing.closed) return existing;
    // Keyed by service too: the handshake names its service, and a provider's refusal of one
    // service must not fail a concurrent connect to another it offers.
    const key = `${bytesToHex(nodeId)}/${service}`;
    let shared = this.connecting.get(key);
    if (!shared) {
      // The handshake has its own controller: it is cancelled only when every caller waiting
      // on it gave up, so one caller's abort never fails the others.
      const controller = new AbortController();
      const entry: SharedHandshake = { controller, waiting: 0, promise: Promise.resolve(undefined as unknown as TunnelConnection) };
      entry.promise = this.handshake(nodeId, addresses, relays, service, controller.signal).finally(() => this.connecting.delete(key));
      shared = entry;
      this.connecting.set(key, shared);
    }
    return waitFor(shared, signal);
  }

  /**
   * Direct first (the listed addresses, unless the provider lists relays: then it is
   * behind NAT and they would not answer), then a relayed path; a relayed tunnel is
   * handed to `paths.connected`, which upgrades it to direct in the background.
   */
  private async handshake(nodeId: Uint8Array, addresses: Address[], relays: Contact[], service: string, signal?: AbortSignal): Promise<TunnelConnection> {
    const paths = this.context.paths;
    let lastError: unknown = new MccError('ERR_UNREACHABLE', 'provider lists no address');
    const fatal = (error: unknown): boolean =>
      error instanceof MccError && (error.code === 'ERR_ABORTED' || error.code === 'ERR_STOPPED' || error.code === 'ERR_NOT_FOUND');
    if (!paths || relays.length === 0) {
      const reachable = this.context.reachable;
      for (const address of reachable ? addresses.filter(reachable) : addresses) {
        throwIfAborted(signal);
        try {
          const connection = await this.handshakeAt(nodeId, address, service, signal);
          paths?.connected(connection, undefined);
          return connection;
        } catch (error) {
          if (fatal(error)) throw error;
          lastError = error;
          this.context.logger.debug(`tunnel to ${bytesToHex(nodeId).slice(0, 8)} at ${formatAddress(address)} failed: ${(error as Error).message}`);
        }
      }
    }
    if (paths) {
      throwIfAborted(signal);
      try {
        const path = await paths.relayed({ nodeId, addresses, relays }, signal);
        let connection: TunnelConnection;
        try {
          // handshakeAt sends before its first await, so the handshake rides the path's set-up.
          const handshake = this.handshakeAt(nodeId, path.address, service, signal);
          connection = path.open
            ? await this.handshakeWhileOpening(handshake, path.open(), () => this.handshakeAt(nodeId, path.address, service, signal))
            : await handshake;
        } catch (error) {
          paths.abandon(path);
          throw error;
        }
        paths.connected(connection, path);
        return connection;
      } catch (error) {
        if (fatal(error)) throw error;
        lastError = error;
        this.context.logger.debug(`relayed tunnel to ${bytesToHex(nodeId).slice(0, 8)} failed: ${(error as Error).message}`);
      }
    }
    throw lastError instanceof MccError ? lastError : new MccError('ERR_UNREACHABLE', 'no address of the provider answered', { cause: lastError });
  }

  /**
   * A handshake that rides a path's set-up. The set-up may outlast the handshake's budget
   * (a relay that does not answer us costs a whole RelayConnect timeout before the next
   * route is tried, and the early handshake reaches the provider only with the route that
   * works): when the handshake timed out while the path was still opening, it is run once
   * more, with a budget of its own, over the path once it is open.
   */
  private async handshakeWhileOpening(
    handshake: Promise<TunnelConnection>,
    opening: Promise<void>,
    again: () => Promise<TunnelConnection>,
  ): Promise<TunnelConnection> {
    let open = false;
    // Awaited below on every path; this keeps a set-up failure while the handshake is pending from being unhandled.
    opening.then(
      () => (open = true),
      () => {},
    );
    try {
      return (await Promise.all([handshake, opening]))[0];
    } catch (error) {
      const timedOutWhileOpening = error instanceof MccError && error.code === 'ERR_TIMEOUT' && !open;
      if (!timedOutWhileOpening) throw error;
      await opening;
      return again();
    }
  }

  /** One tunnel handshake, carried in a session request to `address`. */
  private async handshakeAt(nodeId: Uint8Array, address: Address, service: string, signal?: AbortSignal): Promise<TunnelConnection> {
    const admission = this.context.admission;
    const pending = this.context.driver.initiate(nodeId, address, encodeInitPayload(service, admission?.certificate()));
    const answer = await this.context.rpc.request(
      { id: nodeId, address },
      { tunnelInit: { handshake: pending.message } },
      { signal, timeoutMs: HANDSHAKE_TIMEOUT_MS },
    );
    const response = answer.envelope.tunnelAccept?.handshake;
    const done = response ? pending.complete(response) : null;
    if (!done) throw new MccError('ERR_PEER', 'tunnel handshake answer did not authenticate');
    if (done.payload[0] !== ACCEPT_OK) throw new MccError('ERR_NOT_FOUND', `provider does not offer "${service}"`);
    admission?.learn(nodeId, done.payload.subarray(1));
    // The provider may open streams back on this connection (to a service of ours): route them too.
    this.serve(done.connection);
    return done.connection;
  }

  /** Server side of the handshake: refuses services we do not offer, so the client fails over at once. */
  private acceptHandshake(request: InboundMessage) {
    const handshake = request.envelope.tunnelInit?.handshake;
    if (!handshake) return { error: { code: RemoteErrorCode.InvalidArgument, message: 'empty tunnel handshake' } };
    const admission = this.context.admission;
    const result = this.context.driver.accept(handshake, request.from.address, (peer, payload) => {
      const init = decodeInitPayload(payload);
      if (init === null || !this.context.services.has(init.service)) return null;
      if (admission === undefined) return encodeAcceptPayload();
      // Refused before any service byte, with the same answer as an unknown service: an outsider learns nothing.
      admission.learn(peer, init.certificate);
      return admission.admits(bytesToHex(peer), init.service) ? encodeAcceptPayload(admission.certificate()) : null;
    });
    if (!result) return { error: { code: RemoteErrorCode.NotFound, message: 'service not offered or handshake refused' } };
    return { tunnelAccept: { handshake: result.response } };
  }

  /** Tells the node a tunnel came up (either side), and later that it closed. */
  private announce(connection: TunnelConnection): void {
    const { onTunnel } = this.context;
    if (!onTunnel) return;
    onTunnel('open', connection);
    connection.once('close', () => onTunnel('close', connection));
  }

  private serve(connection: TunnelConnection): void {
    this.context.logger.debug(`tunnel with ${bytesToHex(connection.peer).slice(0, 8)} at ${formatAddress(connection.address)}`);
    this.announce(connection);
    connection.on('stream', (stream: TunnelStream) => {
      // From here on the library owns the stream until a handler or bridge takes it: a peer
      // that resets it, or names a service we do not offer (destroy with ERR_NOT_FOUND), must
      // not crash the provider through an 'error' event nobody listens to.
      const peerHex = bytesToHex(connection.peer);
      stream.on('error', (error) => this.context.logger.debug(`stream from ${peerHex.slice(0, 8)}: ${error.message}`));
      readStreamHeader(stream).then(
        (service) => this.route(stream, service, peerHex),
        () => stream.destroy(),
      );
    });
  }

  private route(stream: TunnelStream, service: string, peer: string): void {
    const target = this.context.services.get(service);
    // A stream on a connection opened for another service is checked on its own.
    if (!target || (this.context.admission !== undefined && !this.context.admission.admits(peer, service))) {
      stream.destroy(new MccError('ERR_NOT_FOUND', `no service "${service}" here`));
      return;
    }
    if (target.kind === 'handler') {
      // The listener attached in serve() stays: a handler that adds no 'error' listener of
      // its own cannot crash the provider when the peer resets or vanishes.
      try {
        target.handler(stream, { service, peer });
      } catch (error) {
        this.context.logger.warn(`handler of "${service}" threw: ${(error as Error).message}`);
        stream.destroy(error as Error);
      }
      return;
    }
    // noDelay: see bridge() — a request/response service behind Nagle waits for our delayed ACK.
    const socket = tcpConnect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true });
    bridge(stream, socket);
  }

  /** Used by forwards: a local connection found no provider (kept in the published types: ForwardOpener names it). */
  logForwardFailure(name: string, error: unknown): void {
    this.context.logger.warn(`forward of "${name}": ${error instanceof Error ? error.message : String(error)}`);
  }

  /** Used by forwards: one stream to a provider of `name` (kept in the published types: ForwardOpener names it). */
  openFor(name: string, strategy: Strategy | undefined, signal: AbortSignal): Promise<Duplex> {
    return this.connect(name, { ...(strategy ? { strategy } : {}), signal });
  }
}
