/**
 * Consortium limits per organisation: how many records the nodes of one organisation may
 * have stored here, how many relay circuits they may hold open through this node, and how
 * many DHT and relay requests per second they may send. Nodes without a valid certificate
 * of a trusted organisation ("outsiders") share one group: their identities are free, so
 * only a shared budget bounds them. This node's own records are never limited.
 *
 * A peer's group is its verified certificate's organisation, looked up when it is charged.
 * A record stays in the group it was charged to until it leaves, except that the source's
 * next new record moves its whole count when its group changed (a member first counted as an
 * outsider, before its certificate was exchanged; a member whose certificate was revoked).
 *
 * State is bounded: one entry per source holding records here (at most the store's record
 * limit), one counter and one token bucket per group (trusted organisations + outsiders).
 */
import type { Consortium } from '../consortium/consortium.js';
import { parseOrganisationId } from '../consortium/organisation.js';
import { invalidArgument } from '../errors.js';
import type { SourceQuota } from '../kademlia/store-tenure.js';
import { bytesToHex } from '../util/bytes.js';
import type { Clock } from '../util/clock.js';
import { RateLimiter } from '../util/rate-limiter.js';

/** What the nodes of one organisation (or all outsiders together) may use on this node. Unset: no limit beyond the node's own. */
export interface OrganisationLimits {
  /** Records charged to its nodes in this node's DHT store (what they stored here, forwarded ones included). */
  records?: number;
  /** Relay circuits its nodes initiated that are open through this node at once. */
  relayCircuits?: number;
  /** DHT and relay requests per second from its nodes, all together (burst: one second's worth). */
  requestsPerSecond?: number;
}

/** `consortium.policy.limits`: limits per organisation. */
export interface ConsortiumLimits {
  /** Each trusted organisation (this node's own included) that has no entry in `orgs`; each counts separately. */
  members?: OrganisationLimits;
  /** All nodes without a valid certificate of a trusted organisation, together. */
  outsiders?: OrganisationLimits;
  /** Per organisation ID (each must be this node's or a trusted one); replaces `members` for it. */
  orgs?: Record<string, OrganisationLimits>;
}

/** What one group used and was refused, in `stats().consortium.limits`. */
export interface OrganisationLimitStats {
  /** Records charged to the group now. */
  records: number;
  /** New records refused over the group's `records` limit. */
  refusedRecords: number;
  /** Relay circuits refused over the group's `relayCircuits` limit. */
  refusedCircuits: number;
  /** Requests refused over the group's `requestsPerSecond`. */
  refusedRequests: number;
}

/** The group of nodes without a valid certificate of a trusted organisation. */
export const OUTSIDERS = 'outsiders';
/** This node itself: never limited. */
const SELF = '';

interface Group {
  limits: OrganisationLimits;
  stats: OrganisationLimitStats;
  bucket: RateLimiter | undefined;
}

/** Validates `limits` against the organisations `state` trusts; returns them resolved by organisation key hex. */
function resolveLimits(
  limits: ConsortiumLimits,
  state: Consortium,
): { members: OrganisationLimits; outsiders: OrganisationLimits; orgs: Map<string, OrganisationLimits> } {
  if (limits === null || typeof limits !== 'object') throw invalidArgument('consortium.policy.limits', 'expected { members, outsiders, orgs }');
  const orgs = new Map<string, OrganisationLimits>();
  for (const [id, entry] of Object.entries(limits.orgs ?? {})) {
    const key = bytesToHex(parseOrganisationId(id, 'consortium.policy.limits.orgs').publicKey);
    if (!state.trusted.has(key)) throw invalidArgument('consortium.policy.limits.orgs', `organisation ${key.slice(0, 16)}… is not in consortium.trust`);
    orgs.set(key, checkEntry(entry, `orgs.${key.slice(0, 16)}`));
  }
  return { members: checkEntry(limits.members ?? {}, 'members'), outsiders: checkEntry(limits.outsiders ?? {}, 'outsiders'), orgs };
}

function checkEntry(entry: OrganisationLimits, name: string): OrganisationLimits {
  const argument = `consortium.policy.limits.${name}`;
  if (entry === null || typeof entry !== 'object') throw invalidArgument(argument, 'expected { records, relayCircuits, requestsPerSecond }');
  for (const field of ['records', 'relayCircuits'] as const) {
    const value = entry[field];
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) throw invalidArgument(`${argument}.${field}`, 'expected an integer >= 0');
  }
  const rate = entry.requestsPerSecond;
  if (rate !== undefined && !(Number.isFinite(rate) && rate > 0)) throw invalidArgument(`${argument}.requestsPerSecond`, 'expected a number > 0');
  return { ...entry };
}

/** The limits of one node: a {@link SourceQuota} for its record store, a circuit quota for its relay, a request budget for its policy gate. */
export class OrganisationQuotas implements SourceQuota {
  private readonly groups = new Map<string, Group>();
  /** Records charged per source (hex node ID), and the group they count in. */
  private readonly sources = new Map<string, { group: string; count: number }>();
  /** The group {@link allows} found last: a STORE's `charged` follows its `allows` at once. */
  private last: { source: string; group: string } | undefined;
  private readonly ownHex: string;

  /** @throws MccError `ERR_INVALID_ARGUMENT` naming the malformed entry or the untrusted organisation. */
  constructor(
    limits: ConsortiumLimits,
    private readonly state: Consortium,
    private readonly clock: Clock,
  ) {
    const resolved = resolveLimits(limits, state);
    this.ownHex = bytesToHex(state.certificate.nodeId);
    for (const key of state.trusted.keys()) this.groups.set(key, this.group(resolved.orgs.get(key) ?? resolved.members));
    this.groups.set(OUTSIDERS, this.group(resolved.outsiders));
  }

  /** True when some group has a `requestsPerSecond` limit (the policy gate then charges every guarded request). */
  get limitsRequests(): boolean {
    return [...this.groups.values()].some((group) => group.bucket !== undefined);
  }

  /** Usage and refusals by organisation ID (and `'outsiders'`). */
  stats(): Record<string, OrganisationLimitStats> {
    const out: Record<string, OrganisationLimitStats> = {};
    for (const [key, group] of this.groups) out[key === OUTSIDERS ? OUTSIDERS : this.state.trusted.get(key)!.id] = { ...group.stats };
    return out;
  }

  /** Total refusals, all groups and kinds. */
  get refused(): number {
    let total = 0;
    for (const { stats } of this.groups.values()) total += stats.refusedRecords + stats.refusedCircuits + stats.refusedRequests;
    return total;
  }

  /** The group of a peer (hex node ID): its verified organisation's key hex, {@link OUTSIDERS}, or this node. */
  groupOf(peerHex: string): string {
    if (peerHex === this.ownHex) return SELF;
    const certificate = this.state.peerCertificate(peerHex);
    return certificate === undefined ? OUTSIDERS : bytesToHex(certificate.orgKey);
  }

  /** {@link SourceQuota.allows}: refuses (and counts) a new record over its group's `records` limit. */
  allows(source: string): boolean {
    const group = this.groupOf(source);
    this.last = { source, group };
    const entry = this.groups.get(group);
    const max = entry?.limits.records;
    if (entry === undefined || max === undefined) return true;
    // A source whose group changed counts in its new group from this record on (see the file comment).
    const held = this.sources.get(source);
    const moving = held !== undefined && held.group !== group ? held.count : 0;
    if (entry.stats.records + moving < max) return true;
    entry.stats.refusedRecords++;
    return false;
  }

  /** {@link SourceQuota.charged}. */
  charged(source: string, delta: number): void {
    let held = this.sources.get(source);
    if (delta > 0) {
      const group = this.last?.source === source ? this.last.group : this.groupOf(source);
      this.last = undefined;
      if (held === undefined) this.sources.set(source, (held = { group, count: 0 }));
      else if (held.group !== group) {
        this.count(held.group, -held.count);
        this.count(group, held.count);
        held.group = group;
      }
    }
    // Records held before the limits were installed were never counted: nothing to take back.
    if (held === undefined) return;
    const change = Math.max(delta, -held.count);
    held.count += change;
    this.count(held.group, change);
    if (held.count <= 0) this.sources.delete(source);
  }

  /** The relay's circuit quota: the group a circuit of `initiatorHex` counts in, or false (counted) over its limit. */
  circuit(initiatorHex: string, open: (group: string) => number): string | false | undefined {
    const group = this.groupOf(initiatorHex);
    const entry = this.groups.get(group);
    const max = entry?.limits.relayCircuits;
    if (entry === undefined || max === undefined) return group;
    if (open(group) < max) return group;
    entry.stats.refusedCircuits++;
    return false;
  }

  /** Takes one request of `peerHex` from its group's budget; false (counted) when it is spent. */
  request(peerHex: string): boolean {
    const entry = this.groups.get(this.groupOf(peerHex));
    if (entry?.bucket === undefined || entry.bucket.take(SELF)) return true;
    entry.stats.refusedRequests++;
    return false;
  }

  private group(limits: OrganisationLimits): Group {
    const rate = limits.requestsPerSecond;
    const bucket = rate === undefined ? undefined : new RateLimiter(this.clock, { ratePerSecond: rate, burst: Math.max(1, rate), maxKeys: 1 });
    return { limits, stats: { records: 0, refusedRecords: 0, refusedCircuits: 0, refusedRequests: 0 }, bucket };
  }

  private count(group: string, delta: number): void {
    const entry = this.groups.get(group);
    if (entry !== undefined) entry.stats.records += delta;
  }
}
