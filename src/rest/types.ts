/**
 * The JSON shapes of the REST API (`/v1`). Addresses travel as `host:port` strings
 * (IPv6 in brackets), binary values as base64, node IDs and DHT keys as lowercase hex.
 * These types are the contract the handler, the OpenAPI document, the `mcc` client
 * commands and the dashboard share.
 */
import type { Visibility } from '../consortium/policy.js';
import type { NatMapping } from '../nat/types.js';
import type { RegistrationState } from '../discovery/registration.js';
import type { ServiceMetadata } from '../discovery/provider-record.js';

/** `GET /v1/node` (and `GET /` for clients that are not browsers). */
export interface NodeInfo {
  /** Node ID: the Ed25519 public key, hex. */
  id: string;
  /** True between `start()` and `stop()`. */
  running: boolean;
  /** The bound UDP address, null when not running. */
  address: string | null;
  /** Name of the crypto suite in use. */
  crypto: string;
  /** The NAT verdict (see `NatStatus` in `mcc-mesh`). */
  nat: {
    /** How the NAT maps our socket: `public`, `consistent`, `random` or `unknown`. */
    mapping: NatMapping;
    /** Whether unsolicited packets reach us (dial-back); null before a conclusive check. */
    reachable: boolean | null;
    /** `host:port` peers see us at; null while unknown. */
    publicAddress: string | null;
    /** DHT mode: `server` (stores values, enters routing tables) when reachable, `client` when not. */
    dht: 'server' | 'client';
    /** Relays we hold reservations with. */
    relays: Array<{
      /** The relay's node ID, hex. */
      id: string;
      /** The relay's `host:port`. */
      address: string;
    }>;
  };
  /** Peers this node has exchanged authenticated messages with. */
  peers: number;
  /** Counters (the same as `GET /metrics`, as JSON). */
  stats: Record<string, unknown>;
}

/** One entry of `GET /v1/peers`. */
export interface PeerJson {
  /** The peer's node ID, hex. */
  id: string;
  /** `host:port` the peer last wrote from. */
  address: string;
  /** Wall-clock ms (since the epoch) of its last authenticated message. */
  lastSeen: number;
  /** Smoothed round trip to the peer in ms; null when not measured yet. */
  rttMs: number | null;
}

/** One entry of `GET /v1/services`, and the answer of `POST /v1/services`. */
export interface ServiceJson {
  /** The service name. */
  name: string;
  /** Publish state of the signed provider record. */
  state: RegistrationState;
  /** `host:port` of the TCP service, or null for an in-process handler. */
  target: string | null;
  /** Metadata published in the provider record; null when none. */
  metadata: ServiceMetadata | null;
  /** Record lifetime in ms. */
  ttlMs: number;
  /** Nodes that accepted the last publish (this node included). */
  stored: number;
  /** Who may see and connect: `'public'`, `'org'` or `{ orgs, nodes }` (consortium mode, docs/consortium.md). */
  visibility: Visibility;
}

/** Body of `POST /v1/services`. */
export interface RegisterBody {
  /** The service name to provide. */
  name: string;
  /** Host of the local TCP service that tunnelled streams reach. Default 127.0.0.1. */
  host?: string;
  /** TCP port of the local service. */
  port: number;
  /** Small JSON metadata to publish with the record (at most 512 bytes of UTF-8 JSON). */
  metadata?: ServiceMetadata;
  /** Record lifetime in ms (10 s to 24 h). */
  ttl?: number;
  /** `'public'` (default), `'org'` or `{ orgs: [organisation IDs], nodes: [node IDs] }`; restricted ones need consortium mode. */
  visibility?: Visibility;
}

/** One provider in `GET /v1/services/{name}/providers` and in SSE watch events. */
export interface ProviderJson {
  /** The provider's node ID, hex. */
  id: string;
  /** `host:port` addresses the provider advertises (public first). */
  addresses: string[];
  /** Relays that reach the provider when it is behind NAT. */
  relays: Array<{
    /** The relay's node ID, hex. */
    id: string;
    /** The relay's `host:port`. */
    address: string;
  }>;
  /** The provider's metadata; null when none. */
  metadata: ServiceMetadata | null;
  /** Sequence number of the provider record (higher replaces lower). */
  seq: number;
  /** Wall-clock ms when the record expires unless republished. */
  expiresAt: number;
  /** Round trip to the provider in ms; null when not measured. */
  rttMs: number | null;
}

/** `GET /v1/services/{name}/providers?limit=&cursor=`. */
export interface ProvidersPage {
  /** The service name looked up. */
  name: string;
  /** The providers of this page. */
  providers: ProviderJson[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** `data` of an SSE event on `GET /v1/services/{name}/events` (event name = `type`). */
export interface WatchEventJson {
  /** What happened to the provider: first seen, record replaced, or gone (expired or withdrawn). */
  type: 'added' | 'updated' | 'removed';
  /** The provider (its last known record for `removed`). */
  provider: ProviderJson;
}

/** One entry of `GET /v1/forwards`, and the answer of `POST /v1/forwards`. */
export interface ForwardJson {
  /** The service its connections reach. */
  name: string;
  /** Local host it listens on. */
  host: string;
  /** Local TCP port it listens on. */
  port: number;
  /** Connections currently forwarded. */
  connections: number;
  /** Local connections closed because no provider could be reached. */
  failed: number;
}

/** Body of `POST /v1/forwards`. */
export interface ForwardBody {
  /** The service to forward to. */
  name: string;
  /** Local TCP port; 0 picks a free one. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
}

/** Body of `POST /v1/dht`. */
export interface DhtPutBody {
  /** The value, base64 (at most 1000 bytes decoded). */
  value: string;
  /** Store a mutable value signed by this node's key under (key, salt). Default false: immutable. */
  mutable?: boolean;
  /** Salt of a mutable value, base64 (at most 64 bytes). */
  salt?: string;
  /** Sequence number of a mutable value. Default: one above the last. */
  seq?: number;
}

/** Answer of `POST /v1/dht`. */
export interface DhtPutJson {
  /** Key of the stored value, hex (pass to `GET /v1/dht/{key}`). */
  key: string;
  /** Sequence number of a mutable value; null for an immutable one. */
  seq: number | null;
  /** Nodes that accepted the value. */
  stored: number;
}

/** Answer of `GET /v1/dht/{key}`. */
export interface DhtGetJson {
  /** The key asked for, hex. */
  key: string;
  /** The value, base64. */
  value: string;
  /** Sequence number of a mutable value; null for an immutable one. */
  seq: number | null;
  /** Author of a mutable value (hex), null for immutable ones. */
  publicKey: string | null;
}

/** Body of `POST /v1/ping`. */
export interface PingBody {
  /** `host:port` of the node to ping. */
  address: string;
  /** Time budget in ms (1 to 60 000). Default: the node's `requestTimeoutMs`. */
  timeoutMs?: number;
}

/** Answer of `POST /v1/ping`. */
export interface PingJson {
  /** The peer's node ID, hex. */
  id: string;
  /** Measured round trip in ms. */
  rttMs: number;
  /** Our address as the peer saw it. */
  observed: string | null;
}

/** One live tunnel connection in the dashboard state. */
export interface TunnelJson {
  /** The peer's node ID, hex. */
  peer: string;
  /** `host:port` the peer's datagrams go to (a virtual relay-circuit address when `relayed`). */
  address: string;
  /** True when the connection runs through a relay circuit. */
  relayed: boolean;
  /** Smoothed round trip in ms. */
  rttMs: number;
  /** Bytes sent over the connection. */
  bytesSent: number;
  /** Bytes received over the connection. */
  bytesReceived: number;
}

/** One remembered lookup in the dashboard state. */
export interface LookupJson {
  /** The service name looked up. */
  name: string;
  /** Wall-clock ms when the lookup answered. */
  at: number;
  /** The providers it found. */
  providers: Array<{
    /** The provider's node ID, hex. */
    id: string;
    /** `host:port` addresses the provider advertises. */
    addresses: string[];
    /** How many relays the provider lists. */
    relays: number;
    /** The provider's metadata; null when none. */
    metadata: ServiceMetadata | null;
    /** Round trip to the provider in ms; null when not measured. */
    rttMs: number | null;
  }>;
}

/** `GET /v1/state`, and `data` of the `state` events of `GET /v1/events` (one a second): everything the dashboard shows. */
export interface StateJson {
  /** The node info, as `GET /v1/node`. */
  node: NodeInfo;
  /** Known peers, as `GET /v1/peers`. */
  peers: PeerJson[];
  /** Services this node provides, as `GET /v1/services`. */
  services: ServiceJson[];
  /** Local port forwards, as `GET /v1/forwards`. */
  forwards: ForwardJson[];
  /** Live tunnel connections (empty while the node is not running). */
  tunnels: TunnelJson[];
  /** The most recent lookups, oldest first. */
  lookups: LookupJson[];
}

/** An RFC 9457 problem document (`application/problem+json`). */
export interface Problem {
  /** Stable URI of the kind of problem, e.g. `https://mcc-mesh.dev/problems/invalid-argument`. */
  type: string;
  /** Short summary of the kind of problem (the same for every occurrence). */
  title: string;
  /** The HTTP status code. */
  status: number;
  /** What went wrong this time, for people. */
  detail: string;
  /** The `MccError` code. */
  code: string;
  /** For a bad argument: the field at fault. */
  field?: string;
}
