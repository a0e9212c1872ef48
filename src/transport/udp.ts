/**
 * The production {@link Transport}: one UDP socket from `node:dgram`.
 *
 * By default it binds the dual-stack wildcard `::` (IPv6 and IPv4 on one socket)
 * and falls back to `0.0.0.0` where the OS has no IPv6. On a dual-stack socket
 * IPv4 peers show up as `::ffff:a.b.c.d`; the transport hides that: `from`
 * addresses are reported as plain IPv4, and plain IPv4 destinations are mapped
 * back before sending, so the layers above only ever see one spelling per peer.
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { MccError, invalidArgument } from '../errors.js';
import { formatAddress, type Address } from '../util/address.js';
import type { DatagramHandler, Transport } from './types.js';

/** Options of {@link UdpTransport}. */
export interface UdpTransportOptions {
  /** IP literal to bind. Default: `::` (dual stack) when the OS supports IPv6, else `0.0.0.0`. */
  host?: string;
  /** Port to bind; 0 (default) lets the OS choose. */
  port?: number;
  /** For an IPv6 wildcard bind: refuse IPv4 peers. Default false (dual stack). */
  ipv6Only?: boolean;
  /** Requested SO_RCVBUF in bytes (best effort; default 4 MiB). See {@link UdpTransport.recvBufferSize}. */
  recvBufferSize?: number;
  /** Requested SO_SNDBUF in bytes (best effort; default: the OS default). */
  sendBufferSize?: number;
}

/** Counters of a {@link UdpTransport}; they only ever grow. */
export interface UdpTransportCounters {
  /**
   * Datagrams handed to the kernel. A send is watched for a kernel error only while no other
   * watched send is outstanding (see {@link UdpTransport.send}); a watched one counts here once
   * the kernel took it, the others at once.
   */
  sent: number;
  /** Datagrams received and handed to the handler. */
  received: number;
  /** Sends that failed: bad destinations, and kernel refusals of watched sends; never thrown. */
  sendErrors: number;
}

const DEFAULT_RECV_BUFFER = 4 * 1024 * 1024;
const V4_MAPPED_PREFIX = '::ffff:';
/** Errors meaning "this machine cannot bind IPv6 here": retry on IPv4. */
const NO_IPV6_CODES = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EPROTONOSUPPORT']);

type State = 'new' | 'binding' | 'bound' | 'closing' | 'closed';

/** Turns `::ffff:a.b.c.d` into `a.b.c.d`; any other host is returned unchanged. */
export function unmapIpv4(host: string): string {
  if (host.length > V4_MAPPED_PREFIX.length && host.startsWith(V4_MAPPED_PREFIX) && host.includes('.')) {
    const v4 = host.slice(V4_MAPPED_PREFIX.length);
    if (isIP(v4) === 4) return v4;
  }
  return host;
}

/**
 * dgram resolves every destination through a lookup function, by default
 * `dns.lookup`, which answers IP literals a tick later. `send` only lets IP
 * literals through, so answer synchronously: it saves a nextTick hop per datagram
 * (about 1.7x send rate on loopback) and guarantees no DNS query is ever made.
 */
function literalLookup(address: string, _family: unknown, callback: (error: Error | null, address: string, family: number) => void): void {
  // One-entry cache: dgram looks up every datagram's destination, and runs go to one peer.
  let family: number;
  if (address === lastLookupAddress) family = lastLookupFamily;
  else {
    family = isIP(address);
    lastLookupAddress = address;
    lastLookupFamily = family;
  }
  if (family === 0) callback(new MccError('ERR_TRANSPORT', `not an IP literal: ${address}`), address, 4);
  else callback(null, address, family);
}

let lastLookupAddress = '';
let lastLookupFamily = 0;

function nextCheckPhase(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Closes a socket and waits until its handle is gone. libuv frees the handle in
 * the loop's close phase, which can come after the 'close' event; two check-phase
 * hops guarantee one close phase has passed, so callers (and leak checks) see no
 * live handle once this resolves.
 */
async function releaseSocket(socket: dgram.Socket): Promise<void> {
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  await nextCheckPhase();
  await nextCheckPhase();
}

function checkSize(value: number | undefined, argument: string): void {
  if (value !== undefined && (!Number.isInteger(value) || value <= 0)) throw invalidArgument(argument, 'expected a positive integer (bytes)');
}

/** A UDP datagram transport on `node:dgram`. */
export class UdpTransport implements Transport {
  /** Traffic counters. */
  readonly counters: UdpTransportCounters = { sent: 0, received: 0, sendErrors: 0 };
  private readonly options: UdpTransportOptions;
  private state: State = 'new';
  private socket: dgram.Socket | undefined;
  private bound: Address | undefined;
  /** True when bound to the IPv6 wildcard with IPv4 accepted: IPv4 destinations need mapping. */
  private dualStack = false;
  private isV6 = false;
  private handler: DatagramHandler | undefined;
  private bindPromise: Promise<Address> | undefined;
  private closePromise: Promise<void> | undefined;
  private recvSize: number | undefined;
  private sendSize: number | undefined;
  private readonly onMessage = (message: Buffer, remote: dgram.RemoteInfo): void => {
    const handler = this.handler;
    if (handler === undefined || this.state !== 'bound') return;
    this.counters.received++;
    // Runs of datagrams come from one peer: hand out the same (never mutated) address object
    // for as long as the source stays the same, rather than a new one per datagram.
    let from = this.lastFrom;
    if (remote.port !== from.port || remote.address !== this.lastFromRaw) {
      from = { host: this.isV6 ? this.unmapCached(remote.address) : remote.address, port: remote.port };
      this.lastFrom = from;
      this.lastFromRaw = remote.address;
    }
    // A Buffer is a Uint8Array: pass it through rather than copying.
    handler(message, from);
  };
  /** The source of the previous datagram, as handed to the handler, and its address as dgram spelled it. */
  private lastFrom: Readonly<Address> = { host: '', port: -1 };
  private lastFromRaw = '';
  private lastSendHost = '';
  private lastSendFamily = 0;
  /** One-entry cache: consecutive datagrams mostly come from the same peer, so skip re-parsing its address. */
  private lastMapped = '';
  private lastUnmapped = '';
  private unmapCached(host: string): string {
    if (host !== this.lastMapped) {
      this.lastMapped = host;
      this.lastUnmapped = unmapIpv4(host);
    }
    return this.lastUnmapped;
  }
  /** A watched send is outstanding (see {@link sendTo}). */
  private watching = false;
  /** Counts the watched datagram once the kernel took it or refused it. */
  private readonly afterWatchedSend = (error: Error | null): void => {
    this.watching = false;
    if (error) this.counters.sendErrors++;
    else this.counters.sent++;
  };
  /** Late socket errors (e.g. ICMP-induced) must not crash the process: count them. */
  private readonly onSocketError = (): void => {
    this.counters.sendErrors++;
  };

  /** Validates the options; nothing is bound until {@link UdpTransport.bind}. */
  constructor(options: UdpTransportOptions = {}) {
    if (options === null || typeof options !== 'object') throw invalidArgument('options', 'expected an object');
    let host = options.host;
    if (host !== undefined) {
      if (typeof host !== 'string') throw invalidArgument('host', 'expected an IP literal');
      if (host === 'localhost') host = '127.0.0.1';
      if (isIP(host) === 0) throw invalidArgument('host', `"${host}" is not an IP literal`);
    }
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalidArgument('port', 'expected an integer 0..65535');
    checkSize(options.recvBufferSize, 'recvBufferSize');
    checkSize(options.sendBufferSize, 'sendBufferSize');
    this.options = { ...options, host, port };
  }

  /** Binds the socket; resolves with the bound address. Rejects with `ERR_TRANSPORT` naming the address on failure. */
  bind(): Promise<Address> {
    if (this.bindPromise) return Promise.reject(new MccError('ERR_TRANSPORT', 'UdpTransport.bind() was already called'));
    if (this.state !== 'new') return Promise.reject(new MccError('ERR_TRANSPORT', 'UdpTransport is closed'));
    this.state = 'binding';
    this.bindPromise = this.doBind();
    return this.bindPromise;
  }

  private async doBind(): Promise<Address> {
    const port = this.options.port!;
    let socket: dgram.Socket;
    if (this.options.host !== undefined) {
      socket = await this.openSocket(this.options.host, port);
    } else {
      try {
        socket = await this.openSocket('::', port);
      } catch (error) {
        const code = ((error as MccError).cause as NodeJS.ErrnoException | undefined)?.code;
        if (code === undefined || !NO_IPV6_CODES.has(code)) throw error;
        socket = await this.openSocket('0.0.0.0', port);
      }
    }
    if (this.state !== 'binding') {
      // close() was called while binding: release the socket at once.
      await releaseSocket(socket);
      throw new MccError('ERR_TRANSPORT', 'UdpTransport was closed while binding');
    }
    this.socket = socket;
    const local = socket.address();
    this.isV6 = local.family === 'IPv6';
    this.dualStack = this.isV6 && local.address === '::' && this.options.ipv6Only !== true;
    this.bound = { host: local.address, port: local.port };
    this.applyBufferSizes(socket);
    socket.on('message', this.onMessage);
    socket.on('error', this.onSocketError);
    this.state = 'bound';
    return { ...this.bound };
  }

  private openSocket(host: string, port: number): Promise<dgram.Socket> {
    const type = isIP(host) === 6 ? 'udp6' : 'udp4';
    return new Promise((resolve, reject) => {
      let socket: dgram.Socket;
      try {
        socket = dgram.createSocket({ type, ipv6Only: type === 'udp6' && this.options.ipv6Only === true, lookup: literalLookup });
      } catch (error) {
        reject(new MccError('ERR_TRANSPORT', `cannot create a ${type} socket: ${(error as Error).message}`, { cause: error }));
        return;
      }
      const where = formatAddress({ host, port });
      const onError = (error: Error): void => {
        const failure = new MccError('ERR_TRANSPORT', `cannot bind UDP ${where}: ${error.message}`, { cause: error, details: { address: where } });
        // Release the failed socket before rejecting, so a rejected bind leaves no handle.
        releaseSocket(socket).then(
          () => reject(failure),
          () => reject(failure),
        );
      };
      socket.once('error', onError);
      socket.bind({ address: host, port, exclusive: true }, () => {
        socket.off('error', onError);
        resolve(socket);
      });
    });
  }

  /** Best effort: unprivileged processes get capped (or refused); we keep whatever the kernel gave. */
  private applyBufferSizes(socket: dgram.Socket): void {
    const recv = this.options.recvBufferSize ?? DEFAULT_RECV_BUFFER;
    try {
      socket.setRecvBufferSize(recv);
    } catch {
      // EPERM/ENOBUFS-like refusals are not fatal: the default buffer still works.
    }
    if (this.options.sendBufferSize !== undefined) {
      try {
        socket.setSendBufferSize(this.options.sendBufferSize);
      } catch {
        // Same as above.
      }
    }
    try {
      this.recvSize = socket.getRecvBufferSize();
      this.sendSize = socket.getSendBufferSize();
    } catch {
      this.recvSize = undefined;
      this.sendSize = undefined;
    }
  }

  /** Actual SO_RCVBUF after bind, as the kernel reports it (Linux reports double the usable size); undefined before bind. */
  get recvBufferSize(): number | undefined {
    return this.recvSize;
  }

  /** Actual SO_SNDBUF after bind, as the kernel reports it; undefined before bind. */
  get sendBufferSize(): number | undefined {
    return this.sendSize;
  }

  /** True when bound to `::` accepting IPv4 peers as well. */
  get isDualStack(): boolean {
    return this.dualStack;
  }

  /**
   * Sends one datagram to an IP-literal address. Never throws: a bad destination
   * or a kernel error counts in `counters.sendErrors`. Ignored before bind and after close.
   * Kernel errors are seen on watched sends only: one at a time, the first of each burst
   * (a callback per datagram would cost a `process.nextTick` each).
   */
  send(to: Address, data: Uint8Array): void {
    this.sendTo(to, data);
  }

  /**
   * Sends `header` then `body` as one datagram (scatter-gather: the kernel joins them, no copy
   * here). Same contract as {@link UdpTransport.send}; neither buffer may change afterwards,
   * since the socket may still hold them when the kernel buffer was full.
   */
  sendParts(to: Address, header: Uint8Array, body: Uint8Array): void {
    this.sendTo(to, [header, body]);
  }

  private sendTo(to: Address, data: Uint8Array | Uint8Array[]): void {
    const socket = this.socket;
    if (socket === undefined || this.state !== 'bound') return;
    try {
      let host = to.host;
      // One-entry cache: a burst of datagrams goes to one peer; skip re-parsing its address.
      let family: number;
      if (host === this.lastSendHost) family = this.lastSendFamily;
      else {
        family = isIP(host);
        this.lastSendHost = host;
        this.lastSendFamily = family;
      }
      // Only IP literals: a hostname here would trigger a DNS lookup per datagram.
      if (family === 0) {
        this.counters.sendErrors++;
        return;
      }
      if (this.isV6) {
        if (family === 4) {
          if (!this.dualStack) {
            this.counters.sendErrors++;
            return;
          }
          host = V4_MAPPED_PREFIX + host;
        }
      } else if (family === 6) {
        host = unmapIpv4(host);
        if (isIP(host) !== 4) {
          this.counters.sendErrors++;
          return;
        }
      }
      // Without a callback dgram drops kernel send errors (EPERM from a firewall, ENETUNREACH,
      // EMSGSIZE) silently, and those are what an operator needs to see; but each callback
      // costs a process.nextTick per datagram (~4% of a tunnel's CPU). So one send at a time
      // is watched: in a burst the first carries the callback, and an error that persists
      // (the kind an operator must see) still shows in the count within a burst or two.
      if (this.watching) {
        socket.send(data, to.port, host);
        this.counters.sent++;
      } else {
        socket.send(data, to.port, host, this.afterWatchedSend);
        this.watching = true; // only once send() returned: a synchronous throw leaves no callback behind
      }
    } catch {
      // Synchronous validation errors (bad port, bad buffer) are counted like kernel errors.
      this.counters.sendErrors++;
    }
  }

  /** Installs the receive handler (replacing any previous one). `data` is only valid during the call. */
  onDatagram(handler: DatagramHandler): void {
    if (typeof handler !== 'function') throw invalidArgument('handler', 'expected a function');
    this.handler = handler;
  }

  /** The bound local address; throws `ERR_TRANSPORT` before bind. */
  localAddress(): Address {
    if (this.bound === undefined) throw new MccError('ERR_TRANSPORT', 'UdpTransport is not bound');
    return { ...this.bound };
  }

  /** Closes the socket; idempotent. Resolves once the socket handle is released. */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    const previous = this.state;
    this.state = 'closing';
    this.closePromise = (async () => {
      if (previous === 'binding') await this.bindPromise!.catch(() => undefined);
      const socket = this.socket;
      this.socket = undefined;
      if (socket !== undefined) {
        socket.off('message', this.onMessage);
        await releaseSocket(socket);
        socket.off('error', this.onSocketError);
      }
      this.state = 'closed';
    })();
    return this.closePromise;
  }
}
