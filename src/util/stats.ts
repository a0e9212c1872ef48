/** Counters every layer updates; `MccNode.stats()` returns a snapshot. */

/** Why an inbound datagram was dropped. */
export type DropReason =
  | 'malformed' // header could not be parsed, wrong version or kind
  | 'oversized' // larger than the datagram limit
  | 'unauthenticated' // AEAD open failed (forged, corrupted, or wrong key)
  | 'replayed' // counter already seen or older than the replay window, or a stale boot ID
  | 'undecodable' // authenticated but the Envelope did not decode
  | 'rate-limited' // the source exceeded its budget
  | 'unexpected' // a response nobody waits for, or a message type nobody handles
  | 'self' // a datagram claiming our own node ID
  | 'internal'; // an exception inside a decoder or handler: a bug of ours, not the peer's fault (logged once per kind)

/** A snapshot of a node's counters. */
export interface StatsSnapshot {
  /** UDP datagrams received on the node's socket, since start (dropped ones included). */
  datagramsIn: number;
  /** UDP datagrams sent (session and tunnel traffic), since start. */
  datagramsOut: number;
  /** Bytes of the datagrams received (UDP payload), since start. */
  bytesIn: number;
  /** Bytes of the datagrams sent (UDP payload), since start. */
  bytesOut: number;
  /** Dropped inbound datagrams by reason. */
  dropped: Record<DropReason, number>;
  /** Total of `dropped`. */
  droppedTotal: number;
  /** Outbound datagrams refused by the anti-amplification rule (replaced by a cookie or not sent). */
  amplificationLimited: number;
  /** Datagrams refused by a per-source budget, by budget (each also counts as a `'rate-limited'` drop). */
  rateLimited: RateLimitCounts;
  /** Requests to peers and answers to theirs, since start. */
  rpc: {
    /** Request datagrams sent, retransmissions included. */
    sent: number;
    /** Requests that got an answer (an error answer included). */
    answered: number;
    /** Requests that got no answer within their budget, after every retry. */
    timeouts: number;
    /** Requests sent again because no answer came in time. */
    retransmits: number;
    /** Answers to peers' requests that could not be sent (e.g. too large to seal). */
    failedReplies: number;
  };
}

/** Hits of each per-source budget of the session and RPC layers (see docs/limits.md). */
export interface RateLimitCounts {
  /** Key agreements for unknown senders refused (50/s per source IP, 1,000/s in total by default). */
  keyAgreement: number;
  /** Cleartext identify probes left unanswered (20/s per source IP). */
  identify: number;
  /** Requests refused by the per-address request budget (src/session/request-budget.ts), and datagrams from an address that spent it, dropped unopened. */
  requestAddress: number;
  /** Requests refused by the per-network (/24, /48) request budget. */
  requestNetwork: number;
}

/** Mutable counters shared by the layers of one node. */
export class Stats {
  datagramsIn = 0;
  datagramsOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  amplificationLimited = 0;
  readonly dropped: Record<DropReason, number> = {
    malformed: 0,
    oversized: 0,
    unauthenticated: 0,
    replayed: 0,
    undecodable: 0,
    'rate-limited': 0,
    unexpected: 0,
    self: 0,
    internal: 0,
  };
  readonly rpc = { sent: 0, answered: 0, timeouts: 0, retransmits: 0, failedReplies: 0 };
  readonly rateLimited: RateLimitCounts = { keyAgreement: 0, identify: 0, requestAddress: 0, requestNetwork: 0 };

  drop(reason: DropReason): void {
    this.dropped[reason]++;
  }

  snapshot(): StatsSnapshot {
    let droppedTotal = 0;
    for (const value of Object.values(this.dropped)) droppedTotal += value;
    return {
      datagramsIn: this.datagramsIn,
      datagramsOut: this.datagramsOut,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      dropped: { ...this.dropped },
      droppedTotal,
      amplificationLimited: this.amplificationLimited,
      rateLimited: { ...this.rateLimited },
      rpc: { ...this.rpc },
    };
  }
}
