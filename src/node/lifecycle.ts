/**
 * The lifecycle of a node: created -> starting -> started -> stopping -> stopped. `start()`
 * binds the transport and joins the mesh; `stop()` withdraws registrations, saves the routing
 * table and closes every layer, so that no socket or timer outlives the node.
 */
import type { Address } from '../util/address.js';
import { formatAddress } from '../util/address.js';
import type { TrackedClock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { MccError, throwIfAborted } from '../errors.js';
import type { Contact } from '../kademlia/types.js';
import { gatherSeeds } from './join.js';
import { LAN_JOIN_WAIT_MS, type NodeLan } from './lan.js';
import type { NodePersistence } from './persistence-runtime.js';
import { writeRoutingFile } from './routing-file.js';
import type { ServiceTarget } from './service-targets.js';
import type { PingResult } from './types.js';
import type { NodeLayers } from './wiring.js';

/** How long stop() waits for withdrawals to reach the network. */
const STOP_WITHDRAW_MS = 2000;

/** Where a node is in its life. */
export type NodeState = 'created' | 'starting' | 'started' | 'stopping' | 'stopped';

/** What {@link NodeLifecycle} starts and stops, and how it tells the node. */
export interface LifecycleContext {
  layers: NodeLayers;
  clock: TrackedClock;
  logger: Logger;
  services: Map<string, ServiceTarget>;
  lan: NodeLan | undefined;
  persistence: NodePersistence | undefined;
  /** `MccNodeOptions.routingTable`: read for seeds at start, written at stop. */
  routingFile: string | undefined;
  /** The bootstrap nodes, already checked. */
  bootstrap: Address[];
  ping(address: Address, options: { signal?: AbortSignal }): Promise<PingResult>;
  /** A bootstrap node did not answer (the node logs it and emits 'warning'). */
  warn(error: MccError): void;
  /** The transport is bound (the node emits 'started'). */
  started(address: Address): void;
  /** Everything is closed (the node emits 'stopped' and drops its listeners). */
  stopped(): void;
}

/** Start, join and stop of one node; holds its state, bound address and join seeds. */
export class NodeLifecycle {
  private current: NodeState = 'created';
  private address: Address | undefined;
  /** The nodes the join went through (a LAN peer when the node knew nobody else). */
  seeds: Contact[] = [];
  /** The close in progress, which every stop() call shares. */
  private stopping: Promise<void> | undefined;

  constructor(private readonly context: LifecycleContext) {}

  /** The current state. */
  get state(): NodeState {
    return this.current;
  }

  /** The bound address; undefined before the transport is bound. */
  get bound(): Address | undefined {
    return this.address;
  }

  /** Binds the transport and joins the mesh through the bootstrap nodes. */
  async start(signal: AbortSignal | undefined): Promise<void> {
    if (this.current !== 'created') {
      throw new MccError(this.current === 'stopped' ? 'ERR_STOPPED' : 'ERR_ALREADY_STARTED', `cannot start a node that is ${this.current}`);
    }
    throwIfAborted(signal);
    const { layers, persistence, lan } = this.context;
    this.current = 'starting';
    let bound: Address;
    try {
      bound = this.address = await layers.transport.bind();
    } catch (error) {
      if (this.current !== 'starting') throw stoppedDuringStart();
      this.current = 'stopped';
      throw error instanceof MccError ? error : new MccError('ERR_TRANSPORT', 'could not bind the transport', { cause: error });
    }
    if (this.current !== 'starting') throw stoppedDuringStart(); // stop() ran meanwhile and closes the transport
    this.current = 'started';
    this.context.logger.info(`listening on ${formatAddress(bound)}`);
    this.context.started(bound);
    try {
      layers.nat.start();
      // Saved services take streams before the join: clients holding the records published
      // before a restart reach this node (same ID, same port) at once.
      for (const [name, target] of persistence?.targets() ?? []) if (!this.context.services.has(name)) this.context.services.set(name, target);
      await persistence?.bound(bound.port);
      await lan?.start(bound);
      await this.bootstrap(signal);
      throwIfAborted(signal);
      if (this.current !== 'started') throw stoppedDuringStart();
      layers.nat.joined();
      layers.consortium?.start();
      await persistence?.joined();
    } catch (error) {
      // Aborted or stopped half-way: leave nothing running (stop() joins a close in progress).
      await this.stop();
      throw error;
    }
  }

  /** Closes every socket and timer of the node; a second call resolves when the first is done. */
  stop(): Promise<void> {
    if (this.current === 'stopped') return Promise.resolve();
    this.stopping ??= this.close();
    return this.stopping;
  }

  private async close(): Promise<void> {
    const { layers, logger, routingFile } = this.context;
    const wasRunning = this.current !== 'created';
    this.current = 'stopping';
    if (wasRunning) await this.withdrawAll();
    // An empty table (a start aborted before the join, a node that never met anyone) must not
    // overwrite the peers saved last time: offline, they are the only way back in.
    const snapshot = layers.kad.snapshot();
    if (wasRunning && routingFile && snapshot.contacts.length > 0) {
      await writeRoutingFile(routingFile, snapshot).catch((error: Error) => logger.warn(`could not save the routing table: ${error.message}`));
    }
    await layers.tunnelService.close();
    await layers.tunnels.close();
    layers.nat.stop();
    this.context.persistence?.stop();
    await this.context.lan?.stop();
    layers.liveWatch.stop();
    layers.consortium?.stop();
    layers.kad.stop();
    layers.rpc.close();
    layers.session.close();
    this.context.clock.clear();
    if (wasRunning) await layers.transport.close();
    this.current = 'stopped';
    this.context.stopped();
  }

  /** Publishes withdrawals of every registration, bounded in time so that stop() never hangs on a dead network. */
  private async withdrawAll(): Promise<void> {
    const { clock, logger } = this.context;
    const controller = new AbortController();
    const timer = clock.setTimeout(() => controller.abort(), STOP_WITHDRAW_MS);
    try {
      await this.context.layers.discovery.stop({ signal: controller.signal });
    } catch (error) {
      logger.debug(`withdrawals on stop incomplete: ${(error as Error).message}`);
    } finally {
      clock.clearTimeout(timer);
    }
  }

  private async bootstrap(signal?: AbortSignal): Promise<void> {
    const { lan } = this.context;
    this.seeds = await gatherSeeds(
      {
        bootstrap: this.context.bootstrap,
        ping: (address, options) => this.context.ping(address, options),
        warn: (error) => this.context.warn(error),
        routingFile: this.context.routingFile,
      },
      signal,
    );
    // No bootstrap node answered and nothing was saved: the peers heard on the LAN are the way
    // in. Waiting briefly for the first one means the first lookup after start() reaches them.
    if (this.seeds.length === 0 && lan) {
      await lan.firstPeer(LAN_JOIN_WAIT_MS, signal);
      this.seeds = lan.contacts();
    }
    // stop() may have run during the awaits above: starting the DHT now would arm its
    // maintenance timer on a stopped node, and that timer re-arms itself forever.
    if (this.current !== 'started') throw stoppedDuringStart();
    await this.context.layers.kad.start(this.seeds, signal);
  }
}

function stoppedDuringStart(): MccError {
  return new MccError('ERR_STOPPED', 'the node was stopped while starting');
}
