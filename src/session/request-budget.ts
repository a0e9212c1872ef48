/**
 * The per-source request budget: every inbound RPC request (ping, FIND_NODE, FIND_VALUE,
 * STORE, NAT and relay requests, tunnel handshakes) is charged to a token bucket of its
 * source address (host and port) and to one of its source network (IPv4 /24, IPv6 /48),
 * before its handler runs. A request either bucket cannot pay for is dropped unanswered
 * and counted (`stats().rateLimited`, drop reason `'rate-limited'`).
 *
 * Why after authentication, not before: a charged request has passed the AEAD open and the
 * replay window, so a third party who merely writes someone's address on forged datagrams
 * cannot spend that address's budget; forged and garbage datagrams are already cheap drops
 * (and unknown senders' key agreements have their own budget in the session layer).
 *
 * Why the network bucket: a host with many ports (or many hosts in one /24) would otherwise
 * get a fresh burst per address. The grouping is injected (`networkOf`; the node passes the
 * routing table's subnetGroup from src/kademlia/subnet.ts, so this layer imports nothing
 * above it): loopback and private (LAN) sources then have no network bucket, by the same
 * rule as the routing table's subnet diversity: many nodes legitimately share 127.0.0.1 or
 * a LAN's /24, and an authenticated peer from there really is on this host or LAN.
 *
 * The per-address default (1,000/s, burst 2,000) sits far above what the protocol makes one
 * peer send one node, and low enough that a flood costs the node little: an iterative lookup
 * costs each node it asks one request, so 1,000/s from one peer is a peer running thousands
 * of lookups a second that all route through this node; a provider republishes a handful
 * per minute; a holder refresh or hand-off of a full 1,000-record set fits in the burst.
 * Tunnel data is not a request and is never charged. A 10,000 requests/s flood from one
 * address gets a tenth through; the rest is shed after the header parse, before the AEAD
 * open (bench/flood.ts, figures in bench/RESULTS.md). Benchmarks that drive one peer at a
 * node's full request rate (bench/session.ts, bench/lookup-rpc.ts) turn the budget off:
 * they measure the stack, not the policy.
 *
 * Memory is bounded: both tables are LRU maps (default 10,000 addresses and 4,096
 * networks). A source evicted from the table comes back with a full bucket, so the network
 * bucket is what bounds an attacker spraying ports across the address table.
 */
import type { Address } from '../util/address.js';
import type { Clock } from '../util/clock.js';
import { LruMap } from '../util/lru.js';
import { invalidArgument } from '../errors.js';

/** Rate and burst of one token bucket. */
export interface BucketLimits {
  /** Requests refilled per second. */
  ratePerSecond: number;
  /** Bucket size: the burst a quiet source may send at once. */
  burst: number;
}

/** Options of the per-source request budget (`MccNodeOptions.requestBudget`). */
export interface RequestBudgetOptions {
  /** Per source address (host and port). Default 1,000/s, burst 2,000. */
  perAddress?: BucketLimits;
  /** Per source network (/24 or /48; none for loopback and LAN sources). Default 20,000/s, burst 40,000. */
  perNetwork?: BucketLimits;
  /** Source addresses tracked at once (LRU beyond). Default 10,000. */
  maxAddresses?: number;
  /** Source networks tracked at once (LRU beyond). Default 4,096. */
  maxNetworks?: number;
  /** The network group of a host (/24 or /48), or undefined for none (no network bucket). Default: none. */
  networkOf?: (host: string) => string | number | undefined;
}

/** Which bucket refused a request. */
export type RequestLimitKind = 'address' | 'network';

/** Default per-address limits (see the file comment for where the figures come from). */
export const DEFAULT_PER_ADDRESS: Readonly<BucketLimits> = Object.freeze({ ratePerSecond: 1_000, burst: 2_000 });
/** Default per-network limits: four busy peers behind one /24 stay clear of it. */
export const DEFAULT_PER_NETWORK: Readonly<BucketLimits> = Object.freeze({ ratePerSecond: 20_000, burst: 40_000 });

/** How long after an address was refused {@link RequestBudget.shouldShed} keeps looking sources up. */
const SHED_WINDOW_MS = 1000;

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Token buckets per source address and per source network, bounded in memory. */
export class RequestBudget {
  private readonly perAddress: BucketLimits;
  private readonly perNetwork: BucketLimits;
  private readonly addresses: LruMap<string, Bucket>;
  private readonly networks: LruMap<string | number, Bucket>;
  private readonly networkOf: (host: string) => string | number | undefined;
  /** Requests refused, by the bucket that refused them, since construction. */
  readonly limited: Record<RequestLimitKind, number> = { address: 0, network: 0 };
  /** When an address bucket last refused a request ({@link RequestBudget.shouldShed} is free until one does). */
  private lastRefusalAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    options: RequestBudgetOptions = {},
  ) {
    this.perAddress = checkedLimits(options.perAddress ?? DEFAULT_PER_ADDRESS, 'perAddress');
    this.perNetwork = checkedLimits(options.perNetwork ?? DEFAULT_PER_NETWORK, 'perNetwork');
    this.addresses = new LruMap(checkedCount(options.maxAddresses ?? 10_000, 'maxAddresses'));
    this.networks = new LruMap(checkedCount(options.maxNetworks ?? 4_096, 'maxNetworks'));
    this.networkOf = options.networkOf ?? (() => undefined);
  }

  /** Source addresses and networks currently tracked (bounded by the options). */
  get tracked(): { addresses: number; networks: number } {
    return { addresses: this.addresses.size, networks: this.networks.size };
  }

  /**
   * True when `from` has spent its address bucket: the session layer then drops its datagrams
   * before the key lookup and the AEAD open, so a source over budget costs a header parse per
   * datagram instead of an open and a decode. Charges nothing, touches no LRU order, and
   * answers false without a lookup unless some address was refused in the last second (the
   * normal case costs one clock read).
   */
  shouldShed(from: Address): boolean {
    const now = this.clock.now();
    if (now - this.lastRefusalAt > SHED_WINDOW_MS) return false;
    const bucket = this.addresses.peek(`${from.host}:${from.port}`);
    if (bucket === undefined) return false;
    const elapsed = Math.max(0, now - bucket.updatedAt);
    return bucket.tokens + (elapsed / 1000) * this.perAddress.ratePerSecond < 1;
  }

  /**
   * Charges one request from `from`. Returns undefined when admitted, else the bucket that
   * refused it; a refused request spends nothing from either bucket, so a source's own
   * excess never drains the network its neighbours share beyond what was admitted.
   */
  admit(from: Address, cost = 1): RequestLimitKind | undefined {
    const now = this.clock.now();
    const address = bucketOf(this.addresses, `${from.host}:${from.port}`, this.perAddress, now);
    const group = this.networkOf(from.host);
    const network = group === undefined ? undefined : bucketOf(this.networks, group, this.perNetwork, now);
    if (address.tokens < cost) {
      this.limited.address++;
      this.lastRefusalAt = now;
      return 'address';
    }
    if (network !== undefined && network.tokens < cost) {
      this.limited.network++;
      return 'network';
    }
    address.tokens -= cost;
    if (network !== undefined) network.tokens -= cost;
    return undefined;
  }
}

/** The bucket of `key`, refilled up to `now` (a new key starts full). */
function bucketOf<K>(table: LruMap<K, Bucket>, key: K, limits: BucketLimits, now: number): Bucket {
  let bucket = table.get(key);
  if (bucket === undefined) {
    bucket = { tokens: limits.burst, updatedAt: now };
    table.set(key, bucket);
    return bucket;
  }
  // A clock that steps back (virtual clocks in tests) refills nothing rather than draining.
  const elapsed = now - bucket.updatedAt;
  if (elapsed > 0) {
    bucket.tokens = Math.min(limits.burst, bucket.tokens + (elapsed / 1000) * limits.ratePerSecond);
    bucket.updatedAt = now;
  }
  return bucket;
}

function checkedLimits(limits: BucketLimits, name: string): BucketLimits {
  if (limits === null || typeof limits !== 'object' || !(limits.ratePerSecond > 0) || !(limits.burst >= 1))
    throw invalidArgument(`requestBudget.${name}`, 'expected { ratePerSecond > 0, burst >= 1 }');
  return { ratePerSecond: limits.ratePerSecond, burst: limits.burst };
}

function checkedCount(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw invalidArgument(`requestBudget.${name}`, 'expected an integer >= 1');
  return value;
}
