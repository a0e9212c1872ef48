/**
 * Composes a node: its layers (src/node/wiring.ts), then what runs on top of them — LAN
 * discovery, the data directory, the registrations and the lifecycle — with the node's events
 * fired on the node itself. `MccNode`'s constructor calls {@link composeNode} and keeps the parts.
 */
import type { EventEmitter } from 'eventemitter3';
import { formatAddress, type Address } from '../util/address.js';
import { childLogger } from '../util/logger.js';
import type { MccError } from '../errors.js';
import { NodeLan, lanSettings } from './lan.js';
import type { DataDir, SavedNodeState } from './persistence.js';
import { NodePersistence } from './persistence-runtime.js';
import { PeerTable, addressOf, observePeer, type PeerObserver } from './peers.js';
import { tunnelInfo } from './introspection.js';
import { NodeLifecycle } from './lifecycle.js';
import { listRegistrations, type RegistrationContext } from './registrations.js';
import { buildLayers, type NodeLayers, type WiringBase } from './wiring.js';
import type { MccNodeEvents, PingResult } from './types.js';

/** What the node has made itself and hands to {@link composeNode}. */
export interface ComposeBase extends WiringBase {
  idHex: string;
  peerTable: PeerTable;
  /** The bootstrap nodes, already checked. */
  bootstrap: Address[];
  /** The data directory, opened by `MccNode.create`; undefined without `dataDir`. */
  dataDir: { dir: DataDir; saved: SavedNodeState } | undefined;
}

/** What the parts ask of the node itself. */
export interface ComposeHooks {
  /** The node, as the emitter of its events. */
  events: Pick<EventEmitter<MccNodeEvents>, 'emit' | 'removeAllListeners'>;
  /** `MccNode.ping` (the join and LAN discovery prove peers with it). */
  ping(address: Address, options: { signal?: AbortSignal }): Promise<PingResult>;
}

/** The parts of one node. */
export interface NodeParts extends NodeLayers {
  lan: NodeLan | undefined;
  persistence: NodePersistence | undefined;
  registry: RegistrationContext;
  lifecycle: NodeLifecycle;
}

/** Builds every part of a node (nothing is bound or started: `start()` does that). */
export function composeNode(base: ComposeBase, hooks: ComposeHooks): NodeParts {
  const { clock, logger, peerTable } = base;
  const { events } = hooks;
  const observer: PeerObserver = {
    table: peerTable,
    now: () => clock.now(),
    wallClock: base.wallClock,
    failover: base.failover,
    logger,
    emitPeer: (info) => events.emit('peer', info),
  };
  // The closures below read parts made further down (the lifecycle, persistence, registry):
  // none of them runs before start(), when every part exists.
  const layers: NodeLayers = buildLayers(base, {
    bound: () => lifecycle.bound,
    seeds: () => lifecycle.seeds,
    peers: () => peerTable.values(),
    observePeer: (message) => observePeer(observer, message),
    addressOf: (nodeId) => addressOf(peerTable, layers.kad, nodeId),
    natChanged: (status) => events.emit('nat', status),
    tunnel: (event, connection) => events.emit(event === 'open' ? 'tunnel-open' : 'tunnel-close', tunnelInfo(connection)),
  });
  const { discovery, kad, consortium } = layers;
  const lanOptions = lanSettings(base.options);
  const lan = lanOptions
    ? new NodeLan(lanOptions, {
        suite: base.suite,
        identity: base.identity,
        clock,
        wallClock: base.wallClock,
        logger: childLogger(logger, 'lan'),
        kad,
        ping: (address, signal) => hooks.ping(address, { signal }),
        isKnown: (idHex, address) => {
          const peer = peerTable.peek(idHex);
          return peer !== undefined && peer.address.host === address.host && peer.address.port === address.port;
        },
        joinedThrough: (contact) => {
          if (lifecycle.seeds.length === 0) lifecycle.seeds = [contact];
          logger.info(`lan: joined the mesh through ${formatAddress(contact.address)}`);
          // Registrations published while alone reached nobody: publish them to the mesh now.
          void discovery.refresh().catch(() => undefined);
          void persistence?.saveRouting();
        },
      })
    : undefined;
  const persistence = base.dataDir
    ? new NodePersistence(base.dataDir.dir, base.dataDir.saved, {
        clock,
        logger: childLogger(logger, 'persistence'),
        running: () => lifecycle.state === 'started',
        registrations: () => listRegistrations(registry),
        routing: () => kad.snapshot(),
        republish: (service, sealed) =>
          discovery.register(service.name, {
            ...(service.metadata !== undefined ? { metadata: service.metadata } : {}),
            ...(service.ttl ? { ttl: service.ttl } : {}),
            ...sealed,
          }),
        consortium,
      })
    : undefined;
  const registry: RegistrationContext = {
    discovery,
    services: base.services,
    consortium,
    persistence,
    emit: (event, name) => events.emit(event, name),
  };
  const lifecycle: NodeLifecycle = new NodeLifecycle({
    layers,
    clock,
    logger,
    services: base.services,
    lan,
    persistence,
    routingFile: base.options.routingTable,
    bootstrap: base.bootstrap,
    ping: (address, options) => hooks.ping(address, options),
    warn: (error: MccError) => {
      logger.warn(error.message);
      events.emit('warning', error);
    },
    started: (address) => events.emit('started', { id: base.idHex, address }),
    stopped: () => {
      events.emit('stopped');
      events.removeAllListeners();
    },
  });
  return { ...layers, lan, persistence, registry, lifecycle };
}
