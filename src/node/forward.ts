/**
 * `MccNode.forward`: a local TCP listener whose every accepted connection becomes one
 * stream to a provider of a service (through the tunnel service's connect).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { EventEmitter } from 'eventemitter3';
import { MccError } from '../errors.js';
import type { Address } from '../util/address.js';
import type { Strategy } from '../discovery/load-balancing.js';
import { bridge } from './service-streams.js';
import type { ForwardInfo } from './introspection.js';

/** Options of `MccNode.forward`. */
export interface ForwardOptions {
  /** Local TCP port to listen on (0 = any free port). */
  port: number;
  /** Local host to listen on. Default `127.0.0.1` (never exposed beyond this machine unless asked). */
  host?: string;
  /** How each local connection picks among providers. Default: the node's. */
  strategy?: Strategy;
  /** Cancels opening the listener. */
  signal?: AbortSignal;
}

/** Events of a {@link Forward}. */
export interface ForwardEvents {
  /**
   * A local connection could not be forwarded (no provider answered, or the stream failed to
   * open) and was closed. The forward keeps listening. Also logged and counted in `failed`.
   */
  error: (error: MccError) => void;
}

/** A running local port forward. */
export interface Forward extends EventEmitter<ForwardEvents> {
  /** The service its connections reach. */
  readonly name: string;
  /** The local address it listens on. */
  readonly address: Address;
  /** Connections currently forwarded. */
  readonly connections: number;
  /** Local connections closed because no provider could be reached. */
  readonly failed: number;
  /** Stops listening and closes forwarded connections. Takes no signal: it finishes locally. */
  close(): Promise<void>;
}
/** What a forward needs from the tunnel service. */
export interface ForwardOpener {
  /** One stream to a provider of `name`. */
  openFor(name: string, strategy: Strategy | undefined, signal: AbortSignal): Promise<Duplex>;
  /** A local connection found no provider. */
  logForwardFailure(name: string, error: unknown): void;
}

/** @internal The listener behind a {@link Forward}. */
export class ForwardHandle extends EventEmitter<ForwardEvents> implements Forward {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly closing = new AbortController();
  private bound: Address | undefined;
  private failures = 0;

  constructor(
    readonly name: string,
    private readonly options: ForwardOptions,
    private readonly service: ForwardOpener,
    private readonly onClosed: () => void,
  ) {
    super();
  }

  get failed(): number {
    return this.failures;
  }

  get address(): Address {
    return this.bound!;
  }

  get connections(): number {
    return this.sockets.size;
  }

  listen(): Promise<void> {
    // noDelay on every accepted socket: see bridge().
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (error) =>
        reject(new MccError('ERR_TRANSPORT', `cannot listen on ${this.options.host ?? '127.0.0.1'}:${this.options.port}: ${error.message}`, { cause: error })),
      );
      server.listen(this.options.port, this.options.host ?? '127.0.0.1', () => {
        const info = server.address() as { address: string; port: number };
        this.bound = { host: info.address, port: info.port };
        resolve();
      });
    });
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    this.service.openFor(this.name, this.options.strategy, this.closing.signal).then(
      (stream) => bridge(stream, socket),
      (error: unknown) => {
        socket.destroy();
        if (this.closing.signal.aborted) return;
        this.failures++;
        const failure =
          error instanceof MccError ? error : new MccError('ERR_UNREACHABLE', `could not forward a connection to "${this.name}"`, { cause: error });
        this.service.logForwardFailure(this.name, failure);
        // eventemitter3 does not throw on an unheard 'error': the log and the count still tell.
        this.emit('error', failure);
      },
    );
  }

  info(): ForwardInfo {
    return { name: this.name, address: { ...this.address }, connections: this.sockets.size, failed: this.failures };
  }

  async close(): Promise<void> {
    this.closing.abort();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.onClosed();
  }
}
