/**
 * The JSON shapes of the REST API (`/v1`). Addresses travel as `host:port` strings
 * (IPv6 in brackets), binary values as base64, node IDs and DHT keys as lowercase hex.
 * These types are the contract the handler, the OpenAPI document, the `mcc` client
 * commands and the dashboard share.
 */
import type { NatMapping } from '../nat/types.js';
import type { RegistrationState } from '../discovery/registration.js';
import type { ServiceMetadata } from '../discovery/provider-record.js';

/** `GET /v1/node` (and `GET /` for clients that are not browsers). */
export interface NodeInfo {
  /** Node ID: the Ed25519 public key, hex. */
  id: string;
  running: boolean;
  /** The bound UDP address, null when not running. */
  address: string | null;
  /** Name of the crypto suite in use. */
  crypto: string;
  nat: {
    mapping: NatMapping;
    reachable: boolean | null;
    publicAddress: string | null;
    dht: 'server' | 'client';
    relays: Array<{ id: string; address: string }>;
  };
  /** Peers this node has exchanged authenticated messages with. */
  peers: number;
  /** Counters (the same as `GET /metrics`, as JSON). */
  stats: Record<string, unknown>;
}

/** One entry of `GET /v1/peers`. */
export interface PeerJson {
  id: string;
  address: string;
  /** Clock ms of the last authenticated message. */
  lastSeen: number;
  rttMs: number | null;
}

/** One entry of `GET /v1/services`, and the answer of `POST /v1/services`. */
export interface ServiceJson {
  name: string;
  state: RegistrationState;
  /** `host:port` of the TCP service, or null for an in-process handler. */
  target: string | null;
  metadata: ServiceMetadata | null;
  ttlMs: number;
  stored: number;
}

/** Body of `POST /v1/services`. */
export interface RegisterBody {
  name: string;
  /** Default 127.0.0.1. */
  host?: string;
  port: number;
  metadata?: ServiceMetadata;
  /** Record lifetime in ms (10 s to 24 h). */
  ttl?: number;
}

/** One provider in `GET /v1/services/{name}/providers` and in SSE watch events. */
export interface ProviderJson {
  id: string;
  addresses: string[];
  relays: Array<{ id: string; address: string }>;
  metadata: ServiceMetadata | null;
  seq: number;
  /** Wall-clock ms when the record expires unless republished. */
  expiresAt: number;
  rttMs: number | null;
}

/** `GET /v1/services/{name}/providers?limit=&cursor=`. */
export interface ProvidersPage {
  name: string;
  providers: ProviderJson[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** `data` of an SSE event on `GET /v1/services/{name}/events` (event name = `type`). */
export interface WatchEventJson {
  type: 'added' | 'updated' | 'removed';
  provider: ProviderJson;
}

/** One entry of `GET /v1/forwards`, and the answer of `POST /v1/forwards`. */
export interface ForwardJson {
  name: string;
  host: string;
  port: number;
  connections: number;
  failed: number;
}

/** Body of `POST /v1/forwards`. */
export interface ForwardBody {
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
  key: string;
  seq: number | null;
  /** Nodes that accepted the value. */
  stored: number;
}

/** Answer of `GET /v1/dht/{key}`. */
export interface DhtGetJson {
  key: string;
  value: string;
  seq: number | null;
  /** Author of a mutable value (hex), null for immutable ones. */
  publicKey: string | null;
}

/** Body of `POST /v1/ping`. */
export interface PingBody {
  /** `host:port` of the node to ping. */
  address: string;
  timeoutMs?: number;
}

/** Answer of `POST /v1/ping`. */
export interface PingJson {
  id: string;
  rttMs: number;
  /** Our address as the peer saw it. */
  observed: string | null;
}

/** One live tunnel connection in the dashboard state. */
export interface TunnelJson {
  peer: string;
  address: string;
  relayed: boolean;
  rttMs: number;
  bytesSent: number;
  bytesReceived: number;
}

/** One remembered lookup in the dashboard state. */
export interface LookupJson {
  name: string;
  at: number;
  providers: Array<{ id: string; addresses: string[]; relays: number; metadata: ServiceMetadata | null; rttMs: number | null }>;
}

/** `GET /v1/state`, and `data` of the `state` events of `GET /v1/events` (one a second): everything the dashboard shows. */
export interface StateJson {
  node: NodeInfo;
  peers: PeerJson[];
  services: ServiceJson[];
  forwards: ForwardJson[];
  tunnels: TunnelJson[];
  lookups: LookupJson[];
}

/** An RFC 9457 problem document (`application/problem+json`). */
export interface Problem {
  /** Stable URI of the kind of problem, e.g. `https://mcc-mesh.dev/problems/invalid-argument`. */
  type: string;
  title: string;
  status: number;
  detail: string;
  /** The `MccError` code. */
  code: string;
  /** For a bad argument: the field at fault. */
  field?: string;
}
