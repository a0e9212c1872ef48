/**
 * The circuits a relay client is an end of (relay-client.ts), and which new circuit may take
 * a place in the table. Any relay can announce circuits to us (`RelayIncoming`) naming any
 * initiator, so making room must never cost a circuit that is in use: dropping the oldest would
 * let 64 bogus announcements cut off every relayed connection.
 *
 * - In use: traffic went through the circuit both ways within {@link CIRCUIT_IDLE_MS}, it is
 *   younger than {@link SETUP_GRACE_MS}, or it is ours and its set-up still runs. Traffic is read
 *   from RelayTransport's per-circuit datagram counts every {@link TRAFFIC_READ_INTERVAL_MS} while
 *   the table holds circuits, and whenever a circuit is to be added: a count that moved since the
 *   previous reading moved "at this reading", at most one interval after it really did (so a
 *   circuit may look in use up to 10 s too long, never idle too early). Read only when a circuit
 *   is to be added, traffic of an hour ago would look brand new after a quiet hour and every
 *   circuit "in use". The hot path is one increment per datagram: stamping each datagram with the
 *   clock would cost ~60 ns per received datagram,
 *   doubling the transport's own per-datagram cost; a timer every 10 s costs nothing measurable.
 * - Full: a circuit not in use makes room, the one idle longest; one that never carried anything
 *   (what a flood of announcements creates) before any other, oldest first. When every circuit
 *   is in use, the new one is refused (`ERR_LIMIT`).
 * - Circuits others open to us are bounded too, by the same rule (an idle circuit of that kind
 *   makes room, else refusal): per relay, per initiator, all announced by relays we hold no
 *   reservation with, and all incoming. The last two keep room for circuits that matter most
 *   (ours, and those through the relays we chose) when sybil relays announce circuits in bulk.
 */
import type { Clock, TimerHandle } from '../util/clock.js';
import { MccError } from '../errors.js';

/**
 * Without traffic both ways for this long a circuit is idle. The relay closes circuits idle
 * for its `circuitIdleMs` (2 minutes by default): by then our end is dead anyway.
 */
export const CIRCUIT_IDLE_MS = 120_000;
/**
 * How often traffic counts are read while the table holds circuits: how late, at most, a datagram
 * is seen. Small against {@link CIRCUIT_IDLE_MS}; one timer, at most 64 lookups per reading.
 */
export const TRAFFIC_READ_INTERVAL_MS = 10_000;
/** A new circuit is in use this long whatever its traffic: set-up and handshake take a few (relayed) round trips. */
export const SETUP_GRACE_MS = 10_000;
/**
 * Circuits one initiator may hold to us. An honest peer needs one at a time, two while it
 * retries through another relay; a few more cover reconnects whose old circuits have not idled out.
 */
export const MAX_INCOMING_PER_INITIATOR = 4;
/**
 * A relay may hold at most this share (1/4) of the table with circuits it announced: a hostile
 * relay, or one that initiators abuse, fills a quarter at most, never the whole table.
 */
export const RELAY_SHARE_DIVISOR = 4;
/**
 * Circuits others open to us take at most this share (3/4) of the table: the rest is for circuits
 * we open (`RelayClient.open`), which announcements can never crowd out. Every new circuit is in
 * use for {@link SETUP_GRACE_MS}, so without it four sybil relays (a quarter each) could refuse
 * our every connect, again every 10 s.
 */
export const MAX_INCOMING_SHARE = 3 / 4;
/**
 * Circuits announced by relays we hold no reservation with take at most this share (1/2) of the
 * table. Any reachable node can be such a relay (with `acceptUnreserved`, the default) and
 * identities are free; honest unreserved circuits are for reachable targets only (an initiator
 * whose firewall lets UDP reach the relay only). So sybils leave a quarter of the table to
 * circuits through our reserved relays ({@link MAX_INCOMING_SHARE} - 1/2) and a quarter to ours.
 */
export const MAX_UNRESERVED_SHARE = 1 / 2;

/** Who opened a circuit to us, and through which relay. */
export interface IncomingEnd {
  initiator: Uint8Array;
  initiatorHex: string;
  relay: Uint8Array;
  relayHex: string;
  /** We held no reservation with the relay when it announced the circuit. */
  unreserved: boolean;
}

/** Where the circuit announced to us comes from (the {@link IncomingEnd} fields the limits use). */
export type IncomingSource = Pick<IncomingEnd, 'initiatorHex' | 'relayHex' | 'unreserved'>;

/** Where a circuit's traffic counts come from (RelayTransport.circuitTraffic). */
export type CircuitTraffic = (circuitIdHex: string) => { received: number; sent: number } | undefined;

interface Entry {
  incoming: IncomingEnd | undefined;
  created: number;
  /** Ours and being set up. */
  opening: boolean;
  /** Counts at the last reading, and the reading at which each last moved (-Infinity: not since set-up). */
  received: number;
  sent: number;
  receivedAt: number;
  sentAt: number;
}

/** The circuit table of a relay client. */
export class CircuitTable {
  private readonly entries = new Map<string, Entry>();
  /** The next periodic reading; set while the table holds circuits. */
  private timer: TimerHandle | undefined;
  /** Circuits announced by one relay, at most. */
  readonly maxPerRelay: number;
  /** Circuits others opened to us, at most. */
  readonly maxIncoming: number;
  /** Circuits announced by relays we hold no reservation with, at most. */
  readonly maxUnreserved: number;

  /**
   * @param evict called with each circuit the table drops to make room (after dropping it):
   *   the client forgets it everywhere else.
   */
  constructor(
    private readonly clock: Clock,
    private readonly traffic: CircuitTraffic,
    private readonly maxCircuits: number,
    private readonly evict: (circuitIdHex: string) => void,
  ) {
    this.maxPerRelay = Math.max(1, Math.floor(maxCircuits / RELAY_SHARE_DIVISOR));
    this.maxIncoming = Math.max(1, Math.floor(maxCircuits * MAX_INCOMING_SHARE));
    this.maxUnreserved = Math.max(1, Math.floor(maxCircuits * MAX_UNRESERVED_SHARE));
  }

  /** Circuits in the table. */
  get size(): number {
    return this.entries.size;
  }

  /** True when `circuitIdHex` is in the table. */
  has(circuitIdHex: string): boolean {
    return this.entries.has(circuitIdHex);
  }

  /** Who opened `circuitIdHex` and through which relay; undefined for circuits we opened. */
  incoming(circuitIdHex: string): IncomingEnd | undefined {
    return this.entries.get(circuitIdHex)?.incoming;
  }

  /**
   * Makes room for one more circuit (announced to us from `from`, or ours), dropping idle
   * circuits as needed. With `replacing`, the new circuit takes that one's place (the same
   * initiator moving it to another relay): it neither counts nor makes room, and stays in the
   * table (the caller drops it once room is made).
   * @throws MccError `ERR_LIMIT` when only circuits in use could make room.
   */
  makeRoom(from?: IncomingSource, replacing?: string): void {
    const now = this.clock.now();
    this.read(now);
    if (from) {
      this.limit(now, replacing, (entry) => entry.incoming?.relayHex === from.relayHex, this.maxPerRelay, 'too many circuits through this relay');
      this.limit(
        now,
        replacing,
        (entry) => entry.incoming?.initiatorHex === from.initiatorHex,
        MAX_INCOMING_PER_INITIATOR,
        'too many circuits from this initiator',
      );
      if (from.unreserved) {
        this.limit(now, replacing, (entry) => entry.incoming?.unreserved === true, this.maxUnreserved, 'too many circuits through relays without reservation');
      }
      this.limit(now, replacing, (entry) => entry.incoming !== undefined, this.maxIncoming, 'too many incoming circuits');
    }
    this.limit(now, replacing, () => true, this.maxCircuits, 'every circuit is in use');
  }

  /** Adds a circuit (after {@link CircuitTable.makeRoom}); `opening` for ours while its set-up runs. */
  add(circuitIdHex: string, incoming: IncomingEnd | undefined, opening = false): void {
    const counts = this.traffic(circuitIdHex);
    this.entries.delete(circuitIdHex);
    this.entries.set(circuitIdHex, {
      incoming,
      created: this.clock.now(),
      opening,
      received: counts?.received ?? 0,
      sent: counts?.sent ?? 0,
      receivedAt: Number.NEGATIVE_INFINITY,
      sentAt: Number.NEGATIVE_INFINITY,
    });
    this.schedule();
  }

  /** Our set-up of `circuitIdHex` finished: from now on only traffic keeps it in use. */
  opened(circuitIdHex: string): void {
    const entry = this.entries.get(circuitIdHex);
    if (entry) entry.opening = false;
  }

  /** Forgets a circuit. */
  remove(circuitIdHex: string): void {
    this.entries.delete(circuitIdHex);
    if (this.entries.size === 0) this.stopReading();
  }

  /** Forgets every circuit (and stops reading); returns their IDs. */
  clear(): string[] {
    const ids = [...this.entries.keys()];
    this.entries.clear();
    this.stopReading();
    return ids;
  }

  /** Reads the counts every TRAFFIC_READ_INTERVAL_MS from now on, while the table holds circuits. */
  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.entries.size === 0) return;
      this.read(this.clock.now());
      this.schedule();
    }, TRAFFIC_READ_INTERVAL_MS);
  }

  private stopReading(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Takes the traffic counts: a count that moved since the last reading moved "now". */
  private read(now: number): void {
    for (const [id, entry] of this.entries) {
      const counts = this.traffic(id);
      if (!counts) continue;
      if (counts.received !== entry.received) {
        entry.received = counts.received;
        entry.receivedAt = now;
      }
      if (counts.sent !== entry.sent) {
        entry.sent = counts.sent;
        entry.sentAt = now;
      }
    }
  }

  private inUse(entry: Entry, now: number): boolean {
    const age = now - entry.created;
    if (age < SETUP_GRACE_MS || (entry.opening && age < CIRCUIT_IDLE_MS)) return true;
    return now - entry.receivedAt < CIRCUIT_IDLE_MS && now - entry.sentAt < CIRCUIT_IDLE_MS;
  }

  /** Drops idle circuits that `match` until fewer than `max` match; throws when only circuits in use are left. */
  private limit(now: number, replacing: string | undefined, match: (entry: Entry) => boolean, max: number, refusal: string): void {
    let count = 0;
    for (const [id, entry] of this.entries) if (id !== replacing && match(entry)) count++;
    for (; count >= max; count--) {
      let victim: string | undefined;
      let victimActive = Number.POSITIVE_INFINITY;
      // Insertion order is creation order: among equals, the first found is the oldest.
      for (const [id, entry] of this.entries) {
        if (id === replacing || !match(entry) || this.inUse(entry, now)) continue;
        const active = Math.max(entry.receivedAt, entry.sentAt);
        if (victim === undefined || active < victimActive) {
          victim = id;
          victimActive = active;
        }
      }
      if (victim === undefined) throw new MccError('ERR_LIMIT', refusal);
      this.entries.delete(victim);
      this.evict(victim);
    }
  }
}
