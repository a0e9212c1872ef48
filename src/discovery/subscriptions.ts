/**
 * The holder side of live watch: subscriptions that other nodes lease at this node for the
 * record sets it holds, and the pushes that tell them when a set changes. A subscription is
 * a (subscriber, key) pair with a lease; renewing it is sending the same subscribe again.
 *
 * What is pushed: a record that changed the set (a new author, new content, a withdrawal),
 * and, once it expires here, the last record of an author that stopped republishing (so
 * a crashed provider disappears from watchers when it disappears from lookups). A republish
 * that changes only seq and expiry is not pushed: watchers would see no event, and with
 * hundreds of providers per key it would be most of the traffic.
 *
 * Bounds (every one refuses with reason `limit`): {@link DEFAULT_SUBSCRIPTION_LIMITS}.
 * Pushes go only to subscribers whose address proved itself (address validation), so a
 * subscription cannot aim record-sized pushes at a third party.
 */
import type { Contact, SignedRecord } from '../kademlia/types.js';
import { authorKey } from '../kademlia/record.js';
import { bytesToHex } from '../util/bytes.js';
import type { Clock, TimerHandle } from '../util/clock.js';

/** Limits of a holder's subscription table. */
export interface SubscriptionLimits {
  /** Subscriptions held in total. Default 4,096. */
  maxTotal: number;
  /** Subscribers of one key. Default 64. */
  maxPerKey: number;
  /** Keys one subscriber (node ID) may watch here. Default 32. */
  maxPerSource: number;
  /** Longest lease granted, ms. Default 120,000. */
  maxLeaseMs: number;
  /** Shortest lease granted, ms (a shorter request gets this). Default 10,000. */
  minLeaseMs: number;
  /** Pushes in flight at once from this holder; further changes wait for a slot. Default 256. */
  maxInFlight: number;
}

/** Default {@link SubscriptionLimits}: 64 watchers per key and 32 keys per watcher keep one node's cost of a busy key bounded. */
export const DEFAULT_SUBSCRIPTION_LIMITS: Readonly<SubscriptionLimits> = {
  maxTotal: 4096,
  maxPerKey: 64,
  maxPerSource: 32,
  maxLeaseMs: 120_000,
  minLeaseMs: 10_000,
  maxInFlight: 256,
};

/** Answer to a subscribe. */
export type SubscribeOutcome =
  | {
      ok: true;
      /** Lease granted, ms. */
      leaseMs: number;
      /** True when the subscription was live already (nothing was missed since the previous lease). */
      renewed: boolean;
    }
  | {
      ok: false;
      /** Why: `limit` (a bound), `not-holder` (this node holds nothing under the key and is not among its closest), `invalid`, `unvalidated`. */
      reason: 'limit' | 'not-holder' | 'invalid' | 'unvalidated';
    };

/** Counters of a holder's subscription table. */
export interface SubscriptionStats {
  /** Live subscriptions. */
  subscriptions: number;
  /** Keys with at least one subscriber. */
  keys: number;
  /** Subscribe requests refused, by reason. */
  refused: Record<'limit' | 'not-holder' | 'invalid' | 'unvalidated', number>;
  /** Notifications sent (one per subscriber per change). */
  pushes: number;
  /** Notifications that got no answer or a refusal (the subscription was dropped). */
  pushFailures: number;
}

/** What the table needs from the node. */
export interface SubscriptionHost {
  clock: Clock;
  /** Wall-clock ms since the epoch (record expiries are wall-clock). */
  wallClock: () => number;
  /** Unexpired records held under `key` (withdrawals included). */
  held(key: Uint8Array): SignedRecord[];
  /** True when this node is a plausible holder of `key` (among the k closest it knows). */
  closeTo(key: Uint8Array): boolean;
  /**
   * Sends one notification (`expired`: the record expired here); resolves true when the
   * subscriber acknowledged it, false when it refused it. Rejects on timeout.
   */
  push(to: Contact, key: Uint8Array, record: SignedRecord, expired: boolean): Promise<boolean>;
}

interface Subscription {
  subscriber: Contact;
  subscriberHex: string;
  /** Clock time the lease ends. */
  until: number;
}

interface WatchedKey {
  key: Uint8Array;
  subscribers: Map<string, Subscription>;
  /** Latest record per author as subscribers were told it (republishes update it silently). */
  known: Map<string, SignedRecord>;
}

/** Subscriptions held at this node, and the pushes of changes to them. */
export class SubscriptionTable {
  private readonly keys = new Map<string, WatchedKey>();
  private readonly perSource = new Map<string, number>();
  private total = 0;
  /** The bounds in force (mutable: a node may tighten them at run time). */
  readonly limits: SubscriptionLimits;
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private inFlight = 0;
  private readonly queue: Array<{ to: Subscription; watched: WatchedKey; record: SignedRecord; expired: boolean }> = [];
  private stopped = false;
  private readonly counters: Omit<SubscriptionStats, 'subscriptions' | 'keys'> = {
    refused: { limit: 0, 'not-holder': 0, invalid: 0, unvalidated: 0 },
    pushes: 0,
    pushFailures: 0,
  };

  constructor(
    private readonly host: SubscriptionHost,
    limits: Partial<SubscriptionLimits> = {},
  ) {
    this.limits = { ...DEFAULT_SUBSCRIPTION_LIMITS, ...limits };
  }

  /**
   * Creates or renews the subscription of `subscriber` to `key` (`leaseMs` 0 cancels it).
   * `validated`: the request came from an address that proved it receives there.
   */
  subscribe(subscriber: Contact, key: Uint8Array, leaseMs: number, validated: boolean): SubscribeOutcome {
    if (this.stopped || !(key instanceof Uint8Array) || key.length !== 32 || !Number.isFinite(leaseMs) || leaseMs < 0) return this.refuse('invalid');
    const keyHex = bytesToHex(key);
    const subscriberHex = bytesToHex(subscriber.id);
    let watched = this.keys.get(keyHex);
    const existing = watched?.subscribers.get(subscriberHex);
    const now = this.host.clock.now();
    if (leaseMs === 0) {
      if (existing !== undefined) this.remove(watched!, existing);
      return { ok: true, leaseMs: 0, renewed: false };
    }
    if (!validated) return this.refuse('unvalidated');
    if (existing !== undefined && existing.until > now) {
      existing.until = now + this.grant(leaseMs);
      // The subscriber may speak from a new address (NAT rebinding): push there from now on.
      existing.subscriber = { id: subscriber.id, address: subscriber.address };
      this.arm(existing.until);
      return { ok: true, leaseMs: this.grant(leaseMs), renewed: true };
    }
    if (existing !== undefined) this.remove(watched!, existing);
    if (this.host.held(key).length === 0 && !this.host.closeTo(key)) return this.refuse('not-holder');
    if (this.total >= this.limits.maxTotal) this.expireLeases(now);
    watched = this.keys.get(keyHex);
    if (this.total >= this.limits.maxTotal) return this.refuse('limit');
    if ((this.perSource.get(subscriberHex) ?? 0) >= this.limits.maxPerSource) return this.refuse('limit');
    if ((watched?.subscribers.size ?? 0) >= this.limits.maxPerKey) return this.refuse('limit');
    if (watched === undefined) {
      watched = { key: Uint8Array.from(key), subscribers: new Map(), known: new Map() };
      for (const record of this.host.held(key)) if (!record.withdrawn) watched.known.set(authorKey(record), record);
      this.keys.set(keyHex, watched);
      for (const record of watched.known.values()) this.arm(this.clockTimeOf(record.expiresAt));
    }
    const subscription: Subscription = {
      subscriber: { id: Uint8Array.from(subscriber.id), address: subscriber.address },
      subscriberHex,
      until: now + this.grant(leaseMs),
    };
    watched.subscribers.set(subscriberHex, subscription);
    this.total++;
    this.perSource.set(subscriberHex, (this.perSource.get(subscriberHex) ?? 0) + 1);
    this.arm(subscription.until);
    return { ok: true, leaseMs: this.grant(leaseMs), renewed: false };
  }

  /**
   * A record under a key changed at this node (the record store's hook): pushes it to the
   * key's subscribers unless only its seq and expiry moved (a republish).
   */
  changed(record: SignedRecord): void {
    // Every STORE a node takes passes here: most nodes watch nothing, and pay one size check.
    if (this.stopped || this.keys.size === 0) return;
    const watched = this.keys.get(bytesToHex(record.key));
    if (watched === undefined) return;
    const author = authorKey(record);
    const known = watched.known.get(author);
    if (record.withdrawn) {
      watched.known.delete(author);
    } else {
      watched.known.set(author, record);
      this.arm(this.clockTimeOf(record.expiresAt));
      if (known !== undefined && Buffer.compare(known.value, record.value) === 0) return;
    }
    this.pushAll(watched, record);
  }

  /** Counters and sizes. */
  stats(): SubscriptionStats {
    return { subscriptions: this.total, keys: this.keys.size, ...this.counters, refused: { ...this.counters.refused } };
  }

  /** Drops every subscription and timer; pushes in flight finish on their own. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.host.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.keys.clear();
    this.perSource.clear();
    this.queue.length = 0;
    this.total = 0;
  }

  private refuse(reason: 'limit' | 'not-holder' | 'invalid' | 'unvalidated'): SubscribeOutcome {
    this.counters.refused[reason]++;
    return { ok: false, reason };
  }

  private grant(leaseMs: number): number {
    return Math.round(Math.min(this.limits.maxLeaseMs, Math.max(this.limits.minLeaseMs, leaseMs)));
  }

  private remove(watched: WatchedKey, subscription: Subscription): void {
    if (watched.subscribers.get(subscription.subscriberHex) !== subscription) return;
    watched.subscribers.delete(subscription.subscriberHex);
    this.total--;
    const left = (this.perSource.get(subscription.subscriberHex) ?? 1) - 1;
    if (left <= 0) this.perSource.delete(subscription.subscriberHex);
    else this.perSource.set(subscription.subscriberHex, left);
    if (watched.subscribers.size === 0) this.keys.delete(bytesToHex(watched.key));
  }

  private expireLeases(now: number): void {
    for (const watched of [...this.keys.values()]) {
      for (const subscription of [...watched.subscribers.values()]) if (subscription.until <= now) this.remove(watched, subscription);
    }
  }

  private pushAll(watched: WatchedKey, record: SignedRecord, expired = false): void {
    const now = this.host.clock.now();
    for (const subscription of [...watched.subscribers.values()]) {
      if (subscription.until <= now) this.remove(watched, subscription);
      else this.queue.push({ to: subscription, watched, record, expired });
    }
    this.drain();
  }

  private drain(): void {
    while (this.inFlight < this.limits.maxInFlight && this.queue.length > 0) {
      const { to, watched, record, expired } = this.queue.shift()!;
      if (watched.subscribers.get(to.subscriberHex) !== to) continue;
      this.inFlight++;
      this.counters.pushes++;
      this.host
        .push(to.subscriber, watched.key, record, expired)
        .then(
          (accepted) => {
            if (!accepted) this.dropAfterFailure(watched, to);
          },
          () => this.dropAfterFailure(watched, to),
        )
        .finally(() => {
          this.inFlight--;
          if (!this.stopped) this.drain();
        });
    }
  }

  /** A subscriber that does not take a push is gone (or forgot us): it re-subscribes, and resyncs, on its next renewal. */
  private dropAfterFailure(watched: WatchedKey, subscription: Subscription): void {
    this.counters.pushFailures++;
    if (!this.stopped) this.remove(watched, subscription);
  }

  /** Clock time at which wall time `wall` arrives. */
  private clockTimeOf(wall: number): number {
    return this.host.clock.now() + Math.max(0, wall - this.host.wallClock());
  }

  /** One timer for the table: the earliest lease end or record expiry (armed earlier when something earlier comes along). */
  private arm(at: number): void {
    if (this.stopped || at >= this.timerAt) return;
    if (this.timer !== undefined) this.host.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.host.clock.setTimeout(() => this.wake(), Math.max(0, at - this.host.clock.now()));
  }

  /** Drops ended leases, pushes records that expired, re-arms for the next event. */
  private wake(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    if (this.stopped) return;
    const now = this.host.clock.now();
    const wall = this.host.wallClock();
    this.expireLeases(now);
    let next = Number.POSITIVE_INFINITY;
    for (const watched of this.keys.values()) {
      for (const subscription of watched.subscribers.values()) next = Math.min(next, subscription.until);
      for (const [author, record] of [...watched.known]) {
        if (record.expiresAt <= wall) {
          watched.known.delete(author);
          this.pushAll(watched, record, true);
        } else {
          next = Math.min(next, now + (record.expiresAt - wall));
        }
      }
    }
    if (next !== Number.POSITIVE_INFINITY) this.arm(next);
  }
}
