/**
 * Consortium mode on a node: the glue between the consortium state (src/consortium) and
 * discovery, the tunnel handshake and the DHT. Restricted registrations publish sealed
 * copies; lookups and watches merge the public record set with every restricted channel
 * this node can read; the tunnel service asks it who may use which service; revocation
 * lists are fetched from the DHT every refresh interval and re-stored by every member.
 */
import type { CryptoSuite, KeyPair } from '../crypto/types.js';
import { invalidArgument } from '../errors.js';
import { Consortium } from '../consortium/consortium.js';
import { loadCredential, type Credential } from '../consortium/credential.js';
import type { ResolvedVisibility, Visibility } from '../consortium/policy.js';
import { createRevocationRecord, parseRevocationRecord, revocationKey } from '../consortium/revocation.js';
import type { Organisation } from '../consortium/organisation.js';
import { encodeMetadata, type Provider, type ServiceMetadata } from '../discovery/provider-record.js';
import type { Discovery } from '../discovery/discovery.js';
import type { LookupOptions } from '../discovery/provider-lookup.js';
import type { RecordCopy } from '../discovery/registration.js';
import { watchProviders, type WatchEvent, type WatchOptions } from '../discovery/watch.js';
import type { Dht } from '../kademlia/dht.js';
import type { SignedRecord } from '../kademlia/types.js';
import type { TunnelDriver } from '../tunnel/driver.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { bytesToHex } from '../util/bytes.js';
import type { TunnelAdmission } from './tunnel-service-types.js';
import type { RpcLayer } from '../session/rpc.js';
import { PolicyGate, type ConsortiumPolicy } from './consortium-policy.js';
import { OrganisationQuotas, type OrganisationLimitStats } from './consortium-limits.js';
import type { RelayServer } from '../nat/relay-server.js';

/** Default interval between fetches of each trusted organisation's revocation list, ms. */
export const DEFAULT_REVOCATION_REFRESH_MS = 60_000;
/** Shortest refresh interval accepted, ms. */
export const MIN_REVOCATION_REFRESH_MS = 1_000;
/**
 * Largest metadata of a restricted service, bytes of JSON: its sealed value (29 bytes more
 * than the open one) must still fit one STORE datagram with the largest address lists.
 */
export const MAX_RESTRICTED_METADATA_BYTES = 400;

/** `MccNode.create({ consortium })`: this node's membership of a consortium. */
export interface ConsortiumOptions {
  /**
   * The node's credential as `mcc org issue` writes it (a file path, or the object:
   * organisation ID, certificate, the organisation's read secret). Alternatively give
   * `certificate`, `organisation` and `readSecret` one by one.
   */
  credential?: Credential | string;
  /** The node's certificate (when `credential` is not given). */
  certificate?: Uint8Array;
  /** The node's organisation ID (when `credential` is not given). */
  organisation?: string;
  /** The organisation's read secret (when `credential` is not given). */
  readSecret?: Uint8Array;
  /** IDs of the organisations whose members this node accepts, besides its own. */
  trust?: string[];
  /** How often each trusted organisation's revocation list is fetched, ms. Default 60 000. */
  revocationRefreshMs?: number;
  /** What this node serves to nodes that are not members of a trusted organisation (DHT, relaying). Default: everything. */
  policy?: ConsortiumPolicy;
}

/** Consortium options with the credential read (from its file when a path was given). */
export type ResolvedConsortiumOptions = ConsortiumOptions & { credential: Credential };

/** The consortium options with the credential file read. */
export async function resolveConsortiumOptions(options: ConsortiumOptions): Promise<ResolvedConsortiumOptions> {
  if (options === null || typeof options !== 'object') throw invalidArgument('consortium', 'expected { credential, trust }');
  if (typeof options.credential === 'string') return { ...options, credential: await loadCredential(options.credential) };
  const credential = options.credential ?? { organisation: options.organisation!, certificate: options.certificate!, readSecret: options.readSecret! };
  return { ...options, credential };
}

/** What the glue needs from its node. */
export interface NodeConsortiumContext {
  suite: CryptoSuite;
  identity: KeyPair;
  clock: Clock;
  wallClock: () => number;
  discovery: Discovery;
  kad: Dht;
  tunnels: TunnelDriver;
  logger: Logger;
  rpc: RpcLayer;
  /** The node's relay role (limits per organisation hook into it). */
  relay?: Pick<RelayServer, 'circuitQuota'>;
}

/** Counters of consortium mode, in `stats().consortium`. */
export interface ConsortiumStats {
  /** Tunnel handshakes or streams refused by a service's visibility. */
  refused: number;
  /** Certificates presented that did not verify (forged, expired, revoked, untrusted, wrong node). */
  badCertificates: number;
  /** Revocation lists installed (newer than the one held). */
  revocationUpdates: number;
  /** DHT and relay requests refused by the policy (the requester presented no valid certificate). */
  policyRefused: number;
  /** Records, relay circuits and requests refused by the limits per organisation (`policy.limits`). */
  limitRefused: number;
  /** With `policy.limits`: use and refusals by organisation ID, and `'outsiders'`. */
  limits?: Record<string, OrganisationLimitStats>;
}

/** Consortium mode of one node. */
export class NodeConsortium implements TunnelAdmission {
  /** The consortium state (credential, trust, revocations, peers' certificates). */
  readonly state: Consortium;
  /** Counters. */
  private readonly counters = { refused: 0, badCertificates: 0, revocationUpdates: 0 };
  private readonly gate: PolicyGate;
  private readonly quotas: OrganisationQuotas | undefined;
  private readonly policy: ConsortiumPolicy;
  private installed = false;
  private readonly visibilities = new Map<string, ResolvedVisibility>();
  /** Restricted services' visibilities as registered (saved in the data directory). */
  private readonly given = new Map<string, Visibility>();
  private readonly refreshMs: number;
  private readonly stopped = new AbortController();
  private timer: TimerHandle | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    options: ResolvedConsortiumOptions,
    private readonly context: NodeConsortiumContext,
  ) {
    this.state = new Consortium({
      suite: context.suite,
      identity: context.identity,
      credential: options.credential,
      trust: options.trust ?? [],
      wallClock: context.wallClock,
    });
    this.gate = new PolicyGate(this.state, context.rpc, context.clock);
    this.policy = options.policy ?? {};
    for (const key of ['dht', 'relay'] as const) {
      const value = this.policy[key];
      if (value !== undefined && value !== 'any' && value !== 'members') throw invalidArgument(`consortium.policy.${key}`, "expected 'any' or 'members'");
    }
    this.quotas = this.policy.limits === undefined ? undefined : new OrganisationQuotas(this.policy.limits, this.state, context.clock);
    this.refreshMs = options.revocationRefreshMs ?? DEFAULT_REVOCATION_REFRESH_MS;
    if (!Number.isFinite(this.refreshMs) || this.refreshMs < MIN_REVOCATION_REFRESH_MS) {
      throw invalidArgument('consortium.revocationRefreshMs', `expected a number of ms >= ${MIN_REVOCATION_REFRESH_MS}`);
    }
  }

  /** Counters. */
  get stats(): ConsortiumStats {
    const quotas = this.quotas;
    return { ...this.counters, policyRefused: this.gate.refused, limitRefused: quotas?.refused ?? 0, ...(quotas ? { limits: quotas.stats() } : {}) };
  }

  /** {@link TunnelAdmission.certificate}. */
  certificate(): Uint8Array {
    return this.state.certificate.bytes;
  }

  /** {@link TunnelAdmission.learn}. */
  learn(peer: Uint8Array, certificate: Uint8Array): void {
    if (certificate.length === 0) return;
    if (!this.state.learn(peer, certificate).ok) this.counters.badCertificates++;
  }

  /** {@link TunnelAdmission.admits}. */
  admits(peerHex: string, service: string): boolean {
    const visibility = this.visibilities.get(service);
    if (visibility === undefined || this.state.admits(peerHex, visibility)) return true;
    this.counters.refused++;
    return false;
  }

  /**
   * Register options for a service of `visibility`: none for a public one, the sealed copies
   * for a restricted one. Records the visibility the handshake checks.
   * @throws MccError `ERR_INVALID_ARGUMENT` on a bad visibility or too much metadata for a restricted record.
   */
  prepareRegistration(name: string, visibility: Visibility | undefined, metadata: ServiceMetadata | undefined): { copies?: RecordCopy[] } {
    const resolved = this.state.resolve(visibility);
    if (!resolved.public && encodeMetadata(metadata).length > MAX_RESTRICTED_METADATA_BYTES) {
      throw invalidArgument('metadata', `a restricted service's metadata must encode to at most ${MAX_RESTRICTED_METADATA_BYTES} bytes of JSON`);
    }
    this.visibilities.set(name, resolved);
    if (resolved.public) this.given.delete(name);
    else this.given.set(name, structuredClone(visibility!));
    return resolved.public ? {} : { copies: this.state.restrictedCopies(name, resolved) };
  }

  /** The service ended here (unregistered, or its registration failed). */
  forget(name: string): void {
    this.visibilities.delete(name);
    this.given.delete(name);
  }

  /** The visibility a restricted service `name` was registered with; undefined for a public (or unknown) one. */
  visibilityOf(name: string): Visibility | undefined {
    return this.given.get(name);
  }

  /** Public providers of `name` and every restricted provider this node may see, deduplicated by node ID (newest record wins). */
  async lookup(name: string, options: LookupOptions = {}): Promise<Provider[]> {
    const discovery = this.context.discovery;
    const { limit, ...rest } = options;
    const answers = await Promise.all([
      discovery.lookup(name, rest),
      ...this.state.restrictedReads(name).map((read) => discovery.lookupChannel(read.key, (record) => read.open(record), rest)),
    ]);
    const byId = new Map<string, Provider>();
    for (const providers of answers)
      for (const provider of providers) {
        const known = byId.get(provider.id);
        if (known === undefined || known.seq < provider.seq) byId.set(provider.id, provider);
      }
    const merged = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (limit === undefined || merged.length <= limit) return merged;
    // As discovery does: measured providers first, nearest first.
    return merged.sort((a, b) => (a.rttMs ?? Number.POSITIVE_INFINITY) - (b.rttMs ?? Number.POSITIVE_INFINITY)).slice(0, limit);
  }

  /** Watches `name` by polling {@link NodeConsortium.lookup} (restricted channels have no live subscriptions). */
  watch(name: string, options: WatchOptions = {}): AsyncIterable<WatchEvent> {
    return watchProviders((signal) => this.lookup(name, { fresh: true, ...(signal ? { signal } : {}) }), this.context.clock, {
      ...options,
      stopped: this.stopped.signal,
    });
  }

  /** Starts fetching revocation lists (now, then every refresh interval). */
  start(): void {
    if (this.stopped.signal.aborted) return;
    // Installed once every module has registered its handlers (the node is built by then).
    if (!this.installed) this.gate.install(this.policy, this.quotas);
    this.installed = true;
    const quotas = this.quotas;
    if (quotas !== undefined) {
      this.context.kad.store.quota = quotas;
      if (this.context.relay) this.context.relay.circuitQuota = (initiator, open) => quotas.circuit(initiator, open);
    }
    void this.refreshRevocations();
  }

  /** Stops the refresh and ends watches. */
  stop(): void {
    this.stopped.abort();
    if (this.quotas !== undefined && this.context.kad.store.quota === this.quotas) this.context.kad.store.quota = undefined;
    if (this.context.relay) this.context.relay.circuitQuota = undefined;
    if (this.timer !== undefined) this.context.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Fetches every trusted organisation's revocation list once; installs newer ones, keeps
   * them stored on the DHT (republished as signed until they expire) and closes tunnels to
   * peers whose certificates no longer pass. Concurrent calls share one round.
   */
  refreshRevocations(): Promise<void> {
    this.refreshing ??= this.refreshRound().finally(() => {
      this.refreshing = undefined;
      if (!this.stopped.signal.aborted) {
        if (this.timer !== undefined) this.context.clock.clearTimeout(this.timer);
        this.timer = this.context.clock.setTimeout(() => void this.refreshRevocations(), this.refreshMs);
      }
    });
    return this.refreshing;
  }

  /** Publishes a revocation list record the organisation signed (see `createRevocationRecord`) and applies it here. */
  async publishRevocations(record: SignedRecord, signal?: AbortSignal): Promise<number> {
    const org = [...this.state.trusted.values()].find((ref) => Buffer.compare(ref.publicKey, record.author) === 0);
    const list = org === undefined ? null : parseRevocationRecord(record, org.publicKey, this.context.suite);
    if (list === null) throw invalidArgument('record', 'not a revocation list of a trusted organisation');
    const result = await this.context.kad.putRecord(record, { ...(signal ? { signal } : {}) });
    this.install(list);
    return result.stored;
  }

  private async refreshRound(): Promise<void> {
    await Promise.all(
      [...this.state.trusted.values()].map(async (org) => {
        try {
          const found = await this.context.kad.get(revocationKey(org.publicKey, this.context.suite), { signal: this.stopped.signal });
          const list = found === null ? null : parseRevocationRecord(found.record, org.publicKey, this.context.suite);
          if (list !== null && this.install(list)) {
            // Members keep the list alive (republished as signed until it expires): the organisation may be offline.
            this.context.kad.putRecord(found!.record).catch(() => undefined);
          }
        } catch (error) {
          if (!this.stopped.signal.aborted) this.context.logger.debug(`revocation list of ${bytesToHex(org.publicKey).slice(0, 8)}: ${String(error)}`);
        }
      }),
    );
  }

  private install(list: Parameters<Consortium['applyRevocations']>[0]): boolean {
    if (!this.state.applyRevocations(list)) return false;
    this.counters.revocationUpdates++;
    const refused = new Set(this.state.refusedPeers());
    for (const connection of this.context.tunnels.connections) {
      if (refused.has(bytesToHex(connection.peer))) connection.close(0, 'certificate revoked');
    }
    return true;
  }
}

/** The part of a node {@link publishRevocationList} needs (an `MccNode` has it). */
export interface RevocationPublisher {
  /** @internal */
  readonly kad: Pick<Dht, 'putRecord'>;
  /** @internal */
  readonly consortium?: NodeConsortium | undefined;
}

/**
 * Signs `revoked` as `organisation`'s revocation list and stores it on the DHT through
 * `node` (any running node, member or not: the organisation's key signs it). Members
 * install it within one refresh interval. Returns the nodes that stored it.
 * @throws MccError `ERR_INVALID_ARGUMENT` (more than MAX_REVOKED keys, a bad key), `ERR_UNREACHABLE`.
 */
export async function publishRevocationList(
  node: RevocationPublisher,
  organisation: Organisation,
  revoked: ReadonlyArray<Uint8Array | string>,
  options: { seq?: number; ttlMs?: number; signal?: AbortSignal } = {},
): Promise<number> {
  const record = createRevocationRecord(organisation, revoked, {
    ...(options.seq !== undefined ? { seq: options.seq } : {}),
    ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
  });
  if (node.consortium !== undefined && node.consortium.state.trusted.has(bytesToHex(organisation.publicKey))) {
    return node.consortium.publishRevocations(record, options.signal);
  }
  return (await node.kad.putRecord(record, options.signal ? { signal: options.signal } : {})).stored;
}
