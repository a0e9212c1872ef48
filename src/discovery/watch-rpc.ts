/**
 * Live watch over the wire: the `WatchSubscribe` / `WatchSubscribed` and `WatchNotify` /
 * `WatchAck` exchanges (Envelope bodies 970-973, docs/protocol.md) on the node's RPC layer,
 * the holder's {@link SubscriptionTable} hooked to the DHT's record store, and the routing
 * of pushes to the watches of this node. The node calls {@link attachLiveWatch} once.
 */
import type { RpcLayer } from '../session/rpc.js';
import type { InboundMessage } from '../session/session.js';
import { MccError } from '../errors.js';
import type { Dht } from '../kademlia/dht.js';
import { compareDistance } from '../kademlia/keyspace.js';
import { recordFromWire, recordToWire } from '../kademlia/rpc-network.js';
import type { Contact } from '../kademlia/types.js';
import { bytesToHex } from '../util/bytes.js';
import type { Clock } from '../util/clock.js';
import { SubscriptionTable, type SubscriptionLimits, type SubscriptionStats } from './subscriptions.js';
import type { LiveWatchNetwork, LiveWatchStats, PushReceiver, SubscribeAnswer } from './watch-live.js';

/** Deadline of one subscribe or push, ms (the RPC layer retries within it). */
const WATCH_RPC_TIMEOUT_MS = 4_000;
/** Watches of one key on this node share one listener entry; this bounds the keys routed. */
const MAX_ROUTED_KEYS = 1_024;

/** Everything {@link attachLiveWatch} needs from the node. */
export interface LiveWatchHost {
  rpc: RpcLayer;
  kad: Dht;
  clock: Clock;
  wallClock: () => number;
  /** Holder limits (defaults: {@link DEFAULT_SUBSCRIPTION_LIMITS}). */
  limits?: Partial<SubscriptionLimits> | undefined;
}

/** The node's live-watch machinery: the network side for its own watches, the holder table for others'. */
export interface LiveWatchAttachment {
  /** What this node's {@link LiveWatch}es use. */
  network: LiveWatchNetwork;
  /** Subscriptions others hold at this node. */
  table: SubscriptionTable;
  /** Drops every subscription held here and unhooks the record store. */
  stop(): void;
}

/** Wires live watch into a node: RPC handlers, the record-store hook, pushes and subscribes. */
export function attachLiveWatch(host: LiveWatchHost): LiveWatchAttachment {
  const { rpc, kad } = host;
  /** The watches of each key on this node: their push receivers, and which holders each is subscribed at. */
  const receivers = new Map<string, Map<PushReceiver, (holderHex: string) => boolean>>();
  const table = new SubscriptionTable(
    {
      clock: host.clock,
      wallClock: host.wallClock,
      held: (key) => kad.store.get(key),
      closeTo: (key) => isCloseTo(kad, key),
      push: async (to, key, record, expired) => {
        const answer = await rpc.request(to, { watchNotify: { key, record: recordToWire(record), expired } }, { timeoutMs: WATCH_RPC_TIMEOUT_MS });
        return answer.envelope.watchAck?.ok === true;
      },
    },
    host.limits,
  );
  kad.store.onChange = (record) => table.changed(record);

  const sender = (request: InboundMessage): Contact => ({ id: request.from.id, address: request.from.address });
  rpc.handle('watchSubscribe', (request) => {
    const body = request.envelope.watchSubscribe!;
    const outcome = table.subscribe(sender(request), body.key ?? new Uint8Array(0), body.leaseMs ?? 0, request.validated);
    return { watchSubscribed: outcome.ok ? { ok: true, leaseMs: outcome.leaseMs, renewed: outcome.renewed } : { ok: false, reason: outcome.reason } };
  });
  rpc.handle('watchNotify', (request) => {
    const body = request.envelope.watchNotify!;
    const key = body.key ?? new Uint8Array(0);
    const record = body.record ? recordFromWire(body.record, key) : undefined;
    const listeners = key.length === 32 ? receivers.get(bytesToHex(key)) : undefined;
    if (record === undefined || listeners === undefined) return { watchAck: { ok: false } };
    let taken = false;
    for (const receiver of [...listeners.keys()]) if (receiver(sender(request), record, body.expired === true)) taken = true;
    return { watchAck: { ok: taken } };
  });

  const network: LiveWatchNetwork = {
    async closest(key, signal) {
      const result = await kad.lookup(key, { signal });
      return result.closest.map((hit) => hit.contact);
    },
    async subscribe(to, key, leaseMs, signal): Promise<SubscribeAnswer> {
      // Holders know one subscription per (node, key): another watch of this key on this node may still use it.
      if (leaseMs === 0) {
        const holderHex = bytesToHex(to.id);
        for (const holds of receivers.get(bytesToHex(key))?.values() ?? []) if (holds(holderHex)) return { ok: true, leaseMs: 0, renewed: false };
      }
      const answer = await rpc.request(to, { watchSubscribe: { key, leaseMs } }, { signal, timeoutMs: WATCH_RPC_TIMEOUT_MS });
      const body = answer.envelope.watchSubscribed;
      if (!body) throw new MccError('ERR_PEER', 'WatchSubscribe answered with another message');
      return { ok: body.ok === true, leaseMs: body.leaseMs ?? 0, renewed: body.renewed === true, ...(body.reason ? { reason: body.reason } : {}) };
    },
    listen(key, receiver, holds) {
      const keyHex = bytesToHex(key);
      let set = receivers.get(keyHex);
      if (set === undefined) {
        if (receivers.size >= MAX_ROUTED_KEYS) throw new MccError('ERR_LIMIT', `more than ${MAX_ROUTED_KEYS} services watched at once`);
        set = new Map();
        receivers.set(keyHex, set);
      }
      set.set(receiver, holds);
      return () => {
        set.delete(receiver);
        if (set.size === 0 && receivers.get(keyHex) === set) receivers.delete(keyHex);
      };
    },
  };

  return {
    network,
    table,
    stop() {
      table.stop();
      if (kad.store.onChange !== undefined) kad.store.onChange = undefined;
      receivers.clear();
    },
  };
}

/** True when no k known contacts are closer to `key` than this node: it would be among the key's holders. */
function isCloseTo(kad: Dht, key: Uint8Array): boolean {
  const closest = kad.closestContacts(key, undefined, kad.k);
  const kth = closest[kad.k - 1];
  return kth === undefined || compareDistance(kad.position, kad.positions.of(kth.id), key) < 0;
}

/** Live-watch counters of a node, as `node.stats().watch` reports them. */
export interface WatchStats {
  /** Subscriptions other nodes hold at this node, the keys they cover, pushes sent and failed, subscribes refused by reason. */
  held: SubscriptionStats;
  /** This node's own watches running now. */
  watches: {
    /** Watches running. */
    total: number;
    /** Of those, the ones subscribed at a holder (the others poll). */
    live: number;
    /** Pushes they took (verified, newer than what they knew). */
    pushes: number;
    /** Pushes they ignored: forged, stale, or from a node they hold no subscription at. */
    pushesIgnored: number;
    /** Fresh lookups they made (first answers, resyncs, polls). */
    lookups: number;
  };
}

/** Sums the counters of a node's holder table and of its own watches. */
export function watchStats(table: SubscriptionTable, watches: LiveWatchStats[]): WatchStats {
  const sum = (pick: (stats: LiveWatchStats) => number) => watches.reduce((total, stats) => total + pick(stats), 0);
  return {
    held: table.stats(),
    watches: {
      total: watches.length,
      live: watches.filter((stats) => stats.live).length,
      pushes: sum((stats) => stats.pushes),
      pushesIgnored: sum((stats) => stats.pushesIgnored),
      lookups: sum((stats) => stats.lookups),
    },
  };
}
