/**
 * Read-only views of what a node is doing, for dashboards, the REST adapter and operators:
 * its registrations, forwards, tunnel connections and the providers it looked up lately.
 * Plain JSON-friendly objects; nothing here holds a reference into live state.
 */
import type { Visibility } from '../consortium/policy.js';
import type { Address } from '../util/address.js';
import { bytesToHex } from '../util/bytes.js';
import type { ServiceMetadata, Provider } from '../discovery/provider-record.js';
import type { RegistrationState } from '../discovery/registration.js';
import type { TunnelConnection } from '../tunnel/tunnel-connection.js';
import { isVirtualAddress } from '../nat/relay-packet.js';

/** One service this node provides, as {@link MccNode.registrations} lists it. */
export interface ServiceInfo {
  /** The service name. */
  name: string;
  /** Publish state of the signed record. */
  state: RegistrationState;
  /** Where incoming streams go: a TCP service or an in-process handler. */
  target:
    | {
        /** Streams are piped to a TCP service. */
        kind: 'tcp';
        /** The TCP service's host. */
        host: string;
        /** The TCP service's port. */
        port: number;
      }
    | {
        /** Streams go to a `StreamHandler` in this process. */
        kind: 'handler';
      };
  /** Metadata published in the record; undefined when none. */
  metadata: ServiceMetadata | undefined;
  /** Record lifetime, ms. */
  ttlMs: number;
  /** Nodes that accepted the last publish (this node included). */
  stored: number;
  /** A restricted service's visibility as registered (consortium mode); absent for a public one. */
  visibility?: Visibility;
}

/** One local port forward, as {@link MccNode.forwards} lists it. */
export interface ForwardInfo {
  /** The service its connections reach. */
  name: string;
  /** The local address it listens on. */
  address: Address;
  /** Connections currently forwarded. */
  connections: number;
  /** Local connections closed because no provider could be reached. */
  failed: number;
}

/** One live tunnel connection, as {@link MccNode.tunnelConnections} lists it. */
export interface TunnelInfo {
  /** The peer's node ID (hex). */
  peer: string;
  /** Where the peer's datagrams go (a relay circuit when `relayed`). */
  address: Address;
  /** True when the connection runs through a relay circuit. */
  relayed: boolean;
  /** Smoothed round trip, ms. */
  rttMs: number;
  /** Bytes sent over the connection. */
  bytesSent: number;
  /** Bytes received over the connection. */
  bytesReceived: number;
}

/** The providers one lookup found, as {@link MccNode.recentLookups} remembers them. */
export interface LookupInfo {
  /** The service name looked up. */
  name: string;
  /** Wall-clock ms when the lookup answered. */
  at: number;
  /** The providers it found (a summary of each {@link Provider}). */
  providers: Array<{
    /** The provider's node ID, hex. */
    id: string;
    /** Addresses the provider advertises. */
    addresses: Address[];
    /** How many relays the provider lists. */
    relays: number;
    /** The provider's metadata; undefined when none. */
    metadata: ServiceMetadata | undefined;
    /** Round trip to the provider in ms; undefined when not measured. */
    rttMs: number | undefined;
  }>;
}

/** How many looked-up names a node remembers (the oldest is forgotten first). */
export const RECENT_LOOKUPS = 32;

/** A bounded, most-recent-last memory of lookup results. */
export class RecentLookups {
  private readonly byName = new Map<string, LookupInfo>();

  record(name: string, providers: Provider[], at: number): void {
    this.byName.delete(name);
    this.byName.set(name, {
      name,
      at,
      providers: providers.map((provider) => ({
        id: provider.id,
        addresses: provider.addresses.map((address) => ({ ...address })),
        relays: provider.relays.length,
        metadata: provider.metadata,
        rttMs: provider.rttMs,
      })),
    });
    if (this.byName.size > RECENT_LOOKUPS) this.byName.delete(this.byName.keys().next().value!);
  }

  list(): LookupInfo[] {
    return [...this.byName.values()];
  }
}

/** The public view of one tunnel connection. */
export function tunnelInfo(connection: TunnelConnection): TunnelInfo {
  const address = connection.address;
  return {
    peer: bytesToHex(connection.peer),
    address: { ...address },
    relayed: isVirtualAddress(address),
    rttMs: Math.round(connection.core.rtt.smoothed * 100) / 100,
    bytesSent: connection.core.stats.bytesSent,
    bytesReceived: connection.core.stats.bytesReceived,
  };
}

/** What `stats()` reports of the DHT, the tunnels and the services, beside the datagram counters. */
export interface ModuleStats {
  /** The Kademlia DHT. */
  dht: {
    /** Contacts in the routing table. */
    contacts: number;
    /** Records this node stores for others (and itself). */
    records: number;
    /** True while the node acts as a DHT client (answers no queries: it is not reachable). */
    clientMode: boolean;
  };
  /** Tunnel connections open now, and the bytes they carried. */
  tunnels: {
    /** Open connections. */
    open: number;
    /** Of those, connections over a relay circuit. */
    relayed: number;
    /** Bytes sent on the open connections (UDP payload). */
    bytesSent: number;
    /** Bytes received on the open connections (UDP payload). */
    bytesReceived: number;
  };
  /** Services this node offers and local forwards. */
  services: {
    /** Registered services. */
    registered: number;
    /** Local forwards listening. */
    forwards: number;
  };
}

/** Collects {@link ModuleStats} from the node's parts. */
export function moduleStats(parts: {
  contacts: number;
  records: number;
  clientMode: boolean;
  connections: readonly TunnelConnection[];
  registered: number;
  forwards: number;
}): ModuleStats {
  let open = 0;
  let relayed = 0;
  let bytesSent = 0;
  let bytesReceived = 0;
  for (const connection of parts.connections) {
    if (connection.closed) continue;
    open++;
    if (isVirtualAddress(connection.address)) relayed++;
    bytesSent += connection.core.stats.bytesSent;
    bytesReceived += connection.core.stats.bytesReceived;
  }
  return {
    dht: { contacts: parts.contacts, records: parts.records, clientMode: parts.clientMode },
    tunnels: { open, relayed, bytesSent, bytesReceived },
    services: { registered: parts.registered, forwards: parts.forwards },
  };
}
