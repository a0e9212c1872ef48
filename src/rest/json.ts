/** Converts the node's objects to the JSON shapes of types.ts (addresses as text, bytes as hex/base64). */
import type { MccNode } from '../node/node.js';
import type { Provider } from '../discovery/provider-record.js';
import type { ForwardInfo, LookupInfo, ServiceInfo, TunnelInfo } from '../node/introspection.js';
import type { PeerInfo } from '../node/types.js';
import { formatAddress } from '../util/address.js';
import { bytesToHex } from '../util/bytes.js';
import type { ForwardJson, LookupJson, NodeInfo, PeerJson, ProviderJson, ServiceJson, StateJson, TunnelJson } from './types.js';

export function nodeInfo(node: MccNode): NodeInfo {
  const stats = node.stats();
  const { nat, crypto, ...counters } = stats;
  return {
    id: node.idHex,
    running: node.running,
    address: node.running ? formatAddress(node.address) : null,
    crypto,
    nat: {
      mapping: nat.mapping,
      reachable: nat.reachable ?? null,
      publicAddress: nat.publicAddress ? formatAddress(nat.publicAddress) : null,
      dht: nat.dht,
      relays: nat.relays.map((relay) => ({ id: relay.id, address: formatAddress(relay.address) })),
    },
    peers: stats.peers,
    stats: { ...counters, relayServer: nat.relayServer, circuits: nat.circuits, connects: nat.connects },
  };
}

export function peerJson(peer: PeerInfo): PeerJson {
  return { id: peer.id, address: formatAddress(peer.address), lastSeen: peer.lastSeen, rttMs: peer.rttMs ?? null };
}

export function serviceJson(service: ServiceInfo): ServiceJson {
  return {
    name: service.name,
    state: service.state,
    target: service.target.kind === 'tcp' ? formatAddress(service.target) : null,
    metadata: service.metadata ?? null,
    ttlMs: service.ttlMs,
    stored: service.stored,
    visibility: service.visibility ?? 'public',
  };
}

export function providerJson(provider: Provider): ProviderJson {
  return {
    id: provider.id,
    addresses: provider.addresses.map(formatAddress),
    relays: provider.relays.map((relay) => ({ id: bytesToHex(relay.id), address: formatAddress(relay.address) })),
    metadata: provider.metadata ?? null,
    seq: provider.seq,
    expiresAt: provider.expiresAt,
    rttMs: provider.rttMs ?? null,
  };
}

export function forwardJson(forward: ForwardInfo): ForwardJson {
  return { name: forward.name, host: forward.address.host, port: forward.address.port, connections: forward.connections, failed: forward.failed };
}

function tunnelJson(tunnel: TunnelInfo): TunnelJson {
  return { ...tunnel, address: formatAddress(tunnel.address) };
}

function lookupJson(lookup: LookupInfo): LookupJson {
  return {
    name: lookup.name,
    at: lookup.at,
    providers: lookup.providers.map((provider) => ({
      id: provider.id,
      addresses: provider.addresses.map(formatAddress),
      relays: provider.relays,
      metadata: provider.metadata ?? null,
      rttMs: provider.rttMs ?? null,
    })),
  };
}

/** Everything the dashboard shows, in one object. */
export function stateJson(node: MccNode): StateJson {
  const running = node.running;
  return {
    node: nodeInfo(node),
    peers: node.peers().map(peerJson),
    services: node.registrations().map(serviceJson),
    forwards: node.forwards().map(forwardJson),
    tunnels: running ? node.tunnelConnections().map(tunnelJson) : [],
    lookups: node.recentLookups().map(lookupJson),
  };
}
