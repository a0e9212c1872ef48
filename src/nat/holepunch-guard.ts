/**
 * What one node may send, in its hole punches, to addresses nobody has confirmed.
 *
 * Every candidate address of a punch is the peer's own claim: its provider record and its
 * sealed offer (sealed by the very author of the record, over its own relay circuit). A
 * hostile peer can list third parties ("bystanders"), answer at once, claim a random
 * mapping — and every node that punches to it would aim probes at them. So, per node and
 * whatever any peer answers:
 * - main-socket probes (one address each, every 50 ms) are charged to a per-address
 *   {@link ProbeBudget} (20 at once, 2/s after), unless the address has sent us an
 *   authenticated probe (it proved it is a willing peer): those are free;
 * - bulk probes — a spray (random ports of one host) or a birthday (one probe from each
 *   of up to 256 extra sockets to one address) — are charged to a per-host budget of one
 *   full spray's worth per {@link BULK_REFILL_MS}, unless the host is vouched for: the host
 *   the relay observed the peer at (`RelayedConnection.peerObserved`). The relay saw the
 *   peer's real source, so a peer cannot aim a spray at a third party's host that way.
 * Spray probes never touch the per-address budget: 2,000 random ports would flush its
 * memory of the addresses that matter.
 */
import type { Address } from '../util/address.js';
import { formatAddress } from '../util/address.js';
import type { Clock } from '../util/clock.js';
import { bytesToHex } from '../util/bytes.js';
import { LruMap } from '../util/lru.js';
import { ProbeBudget, type ProbeBudgetOptions } from './probe-budget.js';

/**
 * A host that is not vouched for regains one full spray's worth of bulk probes in this
 * long (5 min). An honest node rarely needs two sprays at one host within minutes (the
 * node's punch retries come after 30 s and 60 s, and get what has been regained), while a
 * hostile record that names a bystander's host gets one spray per connecting client per
 * 5 min, not one per connect.
 */
export const BULK_REFILL_MS = 5 * 60_000;

/** Hosts the bulk budget remembers: far more than a node punches to within {@link BULK_REFILL_MS}. */
const BULK_HOSTS = 256;

/**
 * How long an address that sent us an authenticated probe stays confirmed: long enough for
 * the retries and reconnects of one session, short enough that a NAT mapping handed to
 * someone else since does not stay exempt.
 */
const CONFIRMED_MS = 10 * 60_000;

/** Addresses remembered as confirmed, and relay observations remembered, at most. */
const CONFIRMED_ADDRESSES = 1024;
const OBSERVATIONS = 256;

/** A circuit's peer as the relay saw it (the shape of `RelayedConnection`, relay-client-types.ts). */
export interface ObservedCircuit {
  /** The peer at the other end (node ID). */
  peer: Uint8Array;
  /** The circuit's virtual address (the punch's rendezvous address). */
  address: Address;
  /** The peer's real address as the relay saw it, when known. */
  peerObserved: Address | undefined;
}

/** The budgets and the confirmations of one node's hole punches (see the file comment). */
export class PunchGuard {
  /** Per-address budget of main-socket probes to unconfirmed addresses. */
  readonly budget: ProbeBudget;
  /** Per-host budget of bulk probes (spray, birthday) to hosts nobody vouched for. */
  readonly bulk: ProbeBudget;
  private readonly confirmed = new LruMap<string, number>(CONFIRMED_ADDRESSES);
  private readonly observations = new LruMap<string, Address>(OBSERVATIONS);

  /**
   * @param bulkBurst bulk probes a host may get at once: one full spray (or birthday) of this node
   */
  constructor(
    private readonly clock: Clock,
    budget: ProbeBudgetOptions | undefined,
    bulkBurst: number,
  ) {
    this.budget = new ProbeBudget(clock, budget);
    const burst = Math.max(1, bulkBurst);
    this.bulk = new ProbeBudget(clock, { burst, perSecond: (burst * 1000) / BULK_REFILL_MS, maxTargets: BULK_HOSTS, per: 'host' });
  }

  /** `address` sent us an authenticated probe: probes to it are free from now on (for a while). */
  confirm(address: Address): void {
    this.confirmed.set(formatAddress(address), this.clock.now());
  }

  /** True when `address` sent us an authenticated probe recently. */
  isConfirmed(address: Address): boolean {
    const at = this.confirmed.peek(formatAddress(address));
    return at !== undefined && this.clock.now() - at < CONFIRMED_MS;
  }

  /** May a main-socket probe go to `address` now? Spends from the per-address budget unless it is confirmed. */
  mayProbe(address: Address): boolean {
    return this.isConfirmed(address) || this.budget.take(address);
  }

  /** How many of `count` bulk probes may go to `address`'s host now (all when `vouched` is that host). */
  bulkProbes(address: Address, count: number, vouched: string | undefined): number {
    return address.host === vouched ? count : this.bulk.takeUpTo(address, count);
  }

  /** Remembers where the relay of a circuit saw its peer (the circuit's `peerObserved`). */
  observe(circuit: ObservedCircuit): void {
    if (circuit.peerObserved) this.observations.set(observationKey(bytesToHex(circuit.peer), circuit.address), { ...circuit.peerObserved });
  }

  /** The host a relay observed `peerHex` at, for a punch through the circuit at `virtual`; undefined when none is known. */
  vouchedHost(peerHex: string, virtual: Address): string | undefined {
    return this.observations.peek(observationKey(peerHex, virtual))?.host;
  }
}

/** Virtual addresses may be reused by a later circuit to another peer: the peer is part of the key. */
function observationKey(peerHex: string, virtual: Address): string {
  return `${peerHex}@${formatAddress(virtual)}`;
}
