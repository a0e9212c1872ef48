/**
 * NAT-type classification from observed addresses.
 *
 * Peers answer our pings with the source address they saw (`Pong.observed`). With
 * two or more observers at different addresses we can tell how our NAT maps one
 * local socket: every observer sees our bound address (public), all see the same
 * public ip:port (consistent, endpoint-independent mapping), or they see different
 * ports or ips (random, symmetric NAT). Whether *unsolicited* packets reach us is a
 * separate fact learnt by a dial-back (see probe-service.ts) and stored here too.
 *
 * This class is pure state: no timers, no IO. It keeps the newest observation per
 * observer (bounded, expiring), recomputes on every change and emits `change`.
 * A network change — an observer now sees a different address than it saw before —
 * discards the other observers' (now stale) reports and the reachability verdict,
 * and emits `network-change` so the owner re-checks at once.
 */
import { isIP } from 'node:net';
import { EventEmitter } from 'eventemitter3';
import type { Address } from '../util/address.js';
import { formatAddress, sameAddress } from '../util/address.js';
import type { Clock } from '../util/clock.js';
import { invalidArgument } from '../errors.js';
import type { NatMapping } from './types.js';
import { isVirtualAddress } from './relay-packet.js';

/** What the node knows about its own NAT. */
export interface NatState {
  /** How the NAT maps our socket (see {@link NatMapping}). */
  mapping: NatMapping;
  /** True when unsolicited packets reach us, false when a dial-back did not arrive, undefined before a check. */
  reachable: boolean | undefined;
  /** Our address as most observers see it (undefined before any observation). */
  publicAddress: Address | undefined;
  /** Distinct observers whose reports are current. */
  observers: number;
}

/** Events of a {@link NatClassifier}. */
export interface NatClassifierEvents {
  /** The state changed (mapping, reachability or public address). */
  change: (state: NatState, previous: NatState) => void;
  /** An observer saw us at a new address: our network changed; re-check. */
  'network-change': (observed: Address, previous: Address) => void;
}

/** Options of a {@link NatClassifier}. */
export interface NatClassifierOptions {
  clock: Clock;
  /** Our own socket addresses (bound address, interface addresses with the bound port); `public` means observed equals one of them. */
  localAddresses?: Address[];
  /** Observer reports kept (newest per observer). Default 16. */
  maxObservers?: number;
  /** A report older than this is ignored. Default 30 minutes. */
  observationTtlMs?: number;
}

interface Observation {
  observed: Address;
  observerAddress: Address;
  at: number;
}

/** Classifies this node's NAT from what observers report. */
export class NatClassifier extends EventEmitter<NatClassifierEvents> {
  private readonly clock: Clock;
  private readonly maxObservers: number;
  private readonly ttlMs: number;
  private localAddresses: Address[];
  /** Observer node ID (hex), with '/6' for its reports over IPv6 -> its newest report, oldest first. */
  private readonly observations = new Map<string, Observation>();
  private reachability: boolean | undefined;
  private current: NatState = { mapping: 'unknown', reachable: undefined, publicAddress: undefined, observers: 0 };

  constructor(options: NatClassifierOptions) {
    super();
    if (!options?.clock) throw invalidArgument('clock', 'expected a Clock');
    this.clock = options.clock;
    this.maxObservers = options.maxObservers ?? 16;
    this.ttlMs = options.observationTtlMs ?? 30 * 60_000;
    if (!(this.maxObservers >= 2)) throw invalidArgument('maxObservers', 'expected at least 2');
    this.localAddresses = [...(options.localAddresses ?? [])];
  }

  /** The current verdict (a copy). */
  get state(): NatState {
    return { ...this.current, publicAddress: this.current.publicAddress && { ...this.current.publicAddress } };
  }

  /** Replaces our own socket addresses (after bind, or when interfaces change). */
  setLocalAddresses(addresses: Address[]): void {
    this.localAddresses = [...addresses];
    this.recompute();
  }

  /**
   * Records that `observerId` (reached at `observerAddress`) saw us at `observed`.
   * Reports through relay circuits (virtual addresses) say nothing about our NAT and are ignored.
   */
  observe(observerId: string, observerAddress: Address, observed: Address): void {
    if (isVirtualAddress(observed) || isVirtualAddress(observerAddress)) return;
    const now = this.clock.now();
    // A dual-stack observer may see us over IPv4 and over IPv6: two paths, two reports, and
    // seeing the other family is no sign that our network changed.
    const key = isIPv6(observed) ? `${observerId}/6` : observerId;
    const previous = this.observations.get(key);
    if (previous && !sameAddress(previous.observed, observed) && now - previous.at <= this.ttlMs) {
      // Same observer, new address: our mapping (or network) changed under us.
      this.observations.clear();
      this.reachability = undefined;
      this.observations.set(key, { observed: { ...observed }, observerAddress: { ...observerAddress }, at: now });
      this.recompute();
      this.emit('network-change', { ...observed }, previous.observed);
      return;
    }
    this.observations.delete(key); // re-insert: newest last
    this.observations.set(key, { observed: { ...observed }, observerAddress: { ...observerAddress }, at: now });
    while (this.observations.size > this.maxObservers) this.observations.delete(this.observations.keys().next().value!);
    this.recompute();
  }

  /** Records the outcome of a dial-back check (undefined: forget it). */
  setReachable(reachable: boolean | undefined): void {
    this.reachability = reachable;
    this.recompute();
  }

  /** Forgets every report (e.g. after the socket was rebound). */
  reset(): void {
    this.observations.clear();
    this.reachability = undefined;
    this.recompute();
  }

  private fresh(): Observation[] {
    const now = this.clock.now();
    const out: Observation[] = [];
    for (const [id, observation] of this.observations) {
      if (now - observation.at > this.ttlMs) this.observations.delete(id);
      else out.push(observation);
    }
    return out;
  }

  private recompute(): void {
    const observations = this.fresh();
    // Observers at the same ip:port count once: they cannot tell mappings apart.
    const byObserver = new Map<string, Observation>();
    for (const observation of observations) byObserver.set(formatAddress(observation.observerAddress), observation);
    const distinct = [...byObserver.values()];
    const next: NatState = {
      mapping: classify(
        distinct.map((o) => o.observed),
        this.localAddresses,
      ),
      reachable: this.reachability,
      // One vote per observer address, and a tie keeps the earlier report: one peer answering
      // many pings, or lying once after an honest bootstrap node, cannot move our public address.
      publicAddress: mostCommon(preferIpv4(distinct.map((o) => o.observed))),
      observers: distinct.length,
    };
    const previous = this.current;
    this.current = next;
    if (!sameState(previous, next)) this.emit('change', this.state, previous);
  }
}

/**
 * The mapping verdict for a set of reports from distinct observers. IPv4 and IPv6 reports are
 * judged apart (a dual-stack host usually sits behind a NAT44 and has a public IPv6 address:
 * mixed, the reports would look like a random-port NAT); the IPv4 verdict wins once known,
 * since IPv4-only peers are the ones that need NAT traversal to reach us.
 */
export function classify(observed: Address[], localAddresses: Address[]): NatMapping {
  const v6 = observed.filter(isIPv6);
  if (v6.length === 0 || v6.length === observed.length) return classifyFamily(observed, localAddresses);
  const v4 = classifyFamily(
    observed.filter((a) => !isIPv6(a)),
    localAddresses,
  );
  return v4 !== 'unknown' ? v4 : classifyFamily(v6, localAddresses);
}

function classifyFamily(observed: Address[], localAddresses: Address[]): NatMapping {
  if (observed.length < 2) return 'unknown';
  if (observed.every((a) => localAddresses.some((local) => sameAddress(local, a)))) return 'public';
  const first = observed[0];
  if (observed.every((a) => sameAddress(a, first))) return 'consistent';
  return 'random';
}

/** True when the node should serve the DHT (answer unsolicited requests): only when reachable. */
export function shouldServeDht(state: NatState): boolean {
  return state.reachable === true;
}

function isIPv6(address: Address): boolean {
  return isIP(address.host) === 6;
}

/** The IPv4 reports when there are any (the address IPv4-only peers need), else all. */
function preferIpv4(addresses: Address[]): Address[] {
  const v4 = addresses.filter((a) => !isIPv6(a));
  return v4.length > 0 ? v4 : addresses;
}

function mostCommon(addresses: Address[]): Address | undefined {
  const counts = new Map<string, { address: Address; count: number }>();
  let best: { address: Address; count: number } | undefined;
  for (const address of addresses) {
    const key = formatAddress(address);
    const entry = counts.get(key) ?? { address, count: 0 };
    entry.count++;
    counts.set(key, entry);
    if (!best || entry.count > best.count) best = entry;
  }
  return best && { ...best.address };
}

function sameState(a: NatState, b: NatState): boolean {
  const samePublic = a.publicAddress === b.publicAddress || (!!a.publicAddress && !!b.publicAddress && sameAddress(a.publicAddress, b.publicAddress));
  return a.mapping === b.mapping && a.reachable === b.reachable && a.observers === b.observers && samePublic;
}
