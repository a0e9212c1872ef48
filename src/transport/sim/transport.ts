/**
 * A {@link Transport} on the simulated network: no socket, just a port on a
 * host label of a {@link SimNetwork}. Create it with `network.createTransport()`.
 */
import { MccError } from '../../errors.js';
import { invalidArgument } from '../../errors.js';
import type { Address } from '../../util/address.js';
import type { DatagramHandler, Transport } from '../types.js';
import type { SimEndpoint, SimFabric, SimSite } from './types.js';

/** Counters of a {@link SimTransport}; they only ever grow. */
export interface SimTransportCounters {
  /** Datagrams handed to the network. */
  sent: number;
  /** Datagrams delivered to the handler. */
  received: number;
  /** Sends refused for a malformed destination address. */
  sendErrors: number;
}

type State = 'new' | 'bound' | 'closed';

/** A simulated UDP transport. */
export class SimTransport implements Transport, SimEndpoint {
  /** Traffic counters. */
  readonly counters: SimTransportCounters = { sent: 0, received: 0, sendErrors: 0 };
  private state: State = 'new';
  private port = 0;
  private handler: DatagramHandler | undefined;

  /**
   * @internal Use {@link SimNetwork.createTransport}.
   * @param host the host label (private when behind a NAT)
   */
  constructor(
    private readonly fabric: SimFabric,
    private readonly site: SimSite,
    /** The host label this transport lives on (a private address when behind a NAT). */
    readonly host: string,
    private readonly requestedPort: number,
  ) {}

  /** Takes the requested port (or allocates one); rejects with `ERR_TRANSPORT` when it is taken or the transport is closed. */
  bind(): Promise<Address> {
    if (this.state === 'closed') return Promise.reject(new MccError('ERR_TRANSPORT', 'SimTransport is closed'));
    if (this.state === 'bound') return Promise.reject(new MccError('ERR_TRANSPORT', 'SimTransport.bind() was already called'));
    try {
      this.port = this.fabric.attach(this, this.site, this.requestedPort);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- attach() throws MccError; passed on unchanged
      return Promise.reject(error);
    }
    this.state = 'bound';
    return Promise.resolve({ host: this.host, port: this.port });
  }

  /** Sends one datagram through the network (copied, so the caller may reuse `data`). Ignored unless bound. */
  send(to: Address, data: Uint8Array): void {
    if (this.state !== 'bound') return;
    if (this.fabric.transmit(this.site, this.port, to, data)) this.counters.sent++;
    else this.counters.sendErrors++;
  }

  /** Installs the receive handler (replacing any previous one). */
  onDatagram(handler: DatagramHandler): void {
    if (typeof handler !== 'function') throw invalidArgument('handler', 'expected a function');
    this.handler = handler;
  }

  /** The bound address (private when behind a NAT); throws `ERR_TRANSPORT` before bind. */
  localAddress(): Address {
    if (this.state !== 'bound') throw new MccError('ERR_TRANSPORT', this.state === 'new' ? 'SimTransport is not bound' : 'SimTransport is closed');
    return { host: this.host, port: this.port };
  }

  /** Releases the port; datagrams still in flight to it are dropped as `no-listener`. Idempotent. */
  close(): Promise<void> {
    if (this.state === 'bound') this.fabric.detach(this.site, this.port);
    this.state = 'closed';
    return Promise.resolve();
  }

  /** @internal Called by the network on arrival. */
  deliver(data: Uint8Array, from: Address): boolean {
    const handler = this.handler;
    if (handler === undefined || this.state !== 'bound') return false;
    this.counters.received++;
    handler(data, from);
    return true;
  }
}
