/** The public types of `MccNode`: options, events and results. */
import type { Address } from '../util/address.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { MccError } from '../errors.js';
import type { CryptoSuite, KeyPair } from '../crypto/types.js';
import type { CryptoSuiteName } from '../crypto/index.js';
import type { Transport } from '../transport/types.js';
import type { GetOptions, GetResult, PutOptions, PutResult } from '../kademlia/dht.js';
import type { Strategy } from '../discovery/load-balancing.js';
import type { TunnelConfig } from '../tunnel/config.js';
import type { RelayServerOptions } from '../nat/relay-server.js';
import type { RequestBudgetOptions } from '../session/request-budget.js';
import type { NatStatus, NodeNatOptions } from './nat.js';
import type { TunnelInfo } from './introspection.js';
import type { ConsortiumOptions } from './consortium.js';
import type { LanOptions } from '../lan/lan-discovery.js';

/** Options of {@link MccNode.create}. Every option has a default. */
export interface MccNodeOptions {
  /** Identity: a key file path (loaded, or created with mode 0600) or a key pair. Default: a fresh ephemeral identity. */
  identity?: string | KeyPair;
  /** Host to bind the UDP socket to. Default `::` (dual stack) falling back to `0.0.0.0`. */
  host?: string;
  /** UDP port. Default 0 (any free port). */
  port?: number;
  /** Nodes to join through, as `host:port` strings or addresses. */
  bootstrap?: Array<string | Address>;
  /** Replaces the UDP transport (e.g. with the simulated network's). */
  transport?: Transport;
  /**
   * Crypto suite: `'auto'` (default: `'sodium'` where the optional sodium-native package
   * loads, else `'node'`), `'sodium'` (libsodium; `ERR_INVALID_ARGUMENT` where it cannot
   * load), `'node'` (`node:crypto`), `'noble'` (pure JS) or your own. Every suite puts
   * the same bytes on the wire; `stats().crypto` names the one in use.
   */
  crypto?: CryptoSuiteName | CryptoSuite;
  /** Clock for all timers. Default: the system clock. */
  clock?: Clock;
  /** Where logs go. Default: silent unless `MCC_LOG` is set. */
  logger?: Logger;
  /** Default time budget of one request to a peer, in ms. Default 4000. */
  requestTimeoutMs?: number;
  /**
   * The per-source budget every inbound request is charged to (token buckets per source
   * address and per /24 or /48; excess is dropped unanswered and counted in
   * `stats().rateLimited`). `false` turns it off. Default 5,000 requests/s per address
   * (burst 10,000) and 20,000/s per network (burst 40,000); see docs/limits.md.
   */
  requestBudget?: false | RequestBudgetOptions;
  /**
   * DHT client mode: query the DHT but never enter others' routing tables (for nodes others
   * cannot reach). Default false.
   */
  clientMode?: boolean;
  /** Wall clock (ms since the epoch) for record expiry; inject a virtual one in simulations. Default `Date.now`. */
  wallClock?: () => number;
  /** How `connect` and `forward` pick among providers. Default `random`. */
  strategy?: Strategy;
  /** Tunnel limits (windows, buffers, timeouts); see the tunnel docs. */
  tunnel?: Partial<TunnelConfig>;
  /**
   * Relaying for peers behind NAT, offered while this node is reachable: `false` turns it
   * off; an object sets its limits (sessions, bytes per second, lifetimes). Default on.
   */
  relay?: false | RelayServerOptions;
  /** NAT traversal tuning (extra sockets for hole punching, upgrade of relayed connections). */
  nat?: NodeNatOptions;
  /**
   * A file for the routing table: saved on `stop()`, read on `start()`, so a restarted node
   * rejoins through the peers it knew even when no bootstrap node answers. Default: none.
   */
  routingTable?: string;
  /**
   * Consortium mode: this node's certificate and credential, the organisations it trusts.
   * Services may then be registered with a restricted `visibility`. Default: none (public mesh).
   */
  consortium?: ConsortiumOptions;
  /**
   * LAN discovery: the node announces itself by UDP multicast (signed by its key, rate-limited)
   * on the interfaces it is bound to, and joins the mesh through the nodes it hears when no
   * bootstrap node answers or none is given. A node bound to a loopback address announces on
   * loopback only, and only where that interface has multicast on. Only with the built-in UDP
   * transport. `false` turns it off (so does the environment variable `MCC_LAN=off`); an
   * object tunes it. Default on. See docs/lan.md.
   */
  lan?: boolean | LanOptions;
  /**
   * A directory for what a restart needs: the identity (`identity.json`, unless `identity` is
   * given), the routing table (`routing.json`, unless `routingTable` is given), the UDP port
   * and the TCP registrations (`node.json`). A restarted node binds the same port, rejoins
   * through the saved peers and serves and republishes its TCP registrations without the
   * application registering again (in-process `handler` registrations cannot be saved).
   * Created with mode 0700; files are 0600. Default: none (nothing persists).
   */
  dataDir?: string;
}

/** The DHT as `node.dht` exposes it: values up to 1000 bytes, immutable or signed mutable. */
export interface MccDht {
  /**
   * Stores `value` on the k nodes closest to its key. Without `keyPair` the value is immutable
   * (key = hash of the value); with it, mutable and signed (key = hash of public key and salt;
   * the highest `seq` wins). Republished by this node until `stop()`.
   */
  put(value: Uint8Array, options?: PutOptions): Promise<PutResult>;
  /** Reads `key`, verifying what comes back; null when no valid value exists. */
  get(key: Uint8Array, options?: GetOptions): Promise<GetResult | null>;
}

/** The result of {@link MccNode.ping}. */
export interface PingResult {
  /** The peer's node ID (hex). */
  id: string;
  /** Measured round trip in ms. */
  rttMs: number;
  /** Our address as the peer saw it (how NAT detection learns the public address). */
  observed: Address | undefined;
}

/** A peer this node has exchanged authenticated messages with. */
export interface PeerInfo {
  /** The peer's node ID, hex. */
  id: string;
  /** The address its last authenticated message came from. */
  address: Address;
  /** When that was: wall-clock ms since the epoch (`MccNodeOptions.wallClock`). */
  lastSeen: number;
  /** Smoothed round trip to the peer in ms; undefined until a request to it was answered. */
  rttMs: number | undefined;
}

/** Events of an {@link MccNode}. */
export interface MccNodeEvents {
  /** The node is listening. */
  started: (info: { id: string; address: Address }) => void;
  /** The node stopped and released everything. */
  stopped: () => void;
  /** First authenticated message from a peer. */
  peer: (peer: PeerInfo) => void;
  /** A peer reported the address it sees us at. */
  'observed-address': (observed: Address, by: string) => void;
  /** A non-fatal problem (e.g. a bootstrap node did not answer). */
  warning: (error: MccError) => void;
  /** The NAT verdict (mapping, reachability, public address) or the relays changed. */
  nat: (status: NatStatus) => void;
  /** This node now provides `name` (its record was published). */
  registered: (name: string) => void;
  /** This node no longer provides `name` (`unregister()`; the withdrawal was sent). */
  unregistered: (name: string) => void;
  /** A tunnel connection with a peer came up (either side opened it). */
  'tunnel-open': (tunnel: TunnelInfo) => void;
  /** A tunnel connection closed; its byte counts are final. */
  'tunnel-close': (tunnel: TunnelInfo) => void;
}
