/**
 * Pinging a node by address: who is there (identify, or the ID last heard from that
 * address), the round trip, and the address it sees us at.
 */
import type { Address } from '../util/address.js';
import type { Clock } from '../util/clock.js';
import { bytesToHex } from '../util/bytes.js';
import { MccError } from '../errors.js';
import type { SessionLayer, InboundMessage } from '../session/session.js';
import type { RpcLayer } from '../session/rpc.js';
import { fromSocketAddress } from '../wire/address.js';
import type { PeerTable } from './peers.js';
import type { PingResult } from './types.js';

/** What a ping needs from its node. */
export interface PingContext {
  clock: Clock;
  session: SessionLayer;
  rpc: RpcLayer;
  peers: PeerTable;
  /** A peer told us the address it sees us at. */
  observed(peerHex: string, via: Address, observed: Address): void;
}

/** Pings `address` within `timeoutMs` (an upper bound: see `RequestOptions.timeoutMs`). */
export async function pingAddress(context: PingContext, address: Address, timeoutMs: number, signal: AbortSignal | undefined): Promise<PingResult> {
  const { clock, session, rpc, peers } = context;
  const deadline = clock.now() + timeoutMs;
  const known = peers.idAt(address);
  const peerId = known ?? (await session.identify(address, timeoutMs, signal));
  const started = clock.now();
  let answer: InboundMessage;
  try {
    // A remembered ID may be stale (the address restarted with a fresh key): its try gets half
    // the budget, so that asking the address who it is still fits in the rest.
    answer = await rpc.request({ id: peerId, address }, { ping: {} }, { signal, timeoutMs: known === undefined ? timeoutMs : Math.max(1, timeoutMs / 2) });
  } catch (error) {
    if (known === undefined || !(error instanceof MccError && error.code === 'ERR_TIMEOUT')) throw error;
    // Forget it either way: the next ping asks afresh instead of sealing to the old ID forever.
    peers.forget(bytesToHex(known));
    const left = deadline - clock.now();
    if (left <= 0) throw error;
    const current = await session.identify(address, left, signal);
    answer = await rpc.request({ id: current, address }, { ping: {} }, { signal, timeoutMs: Math.max(1, deadline - clock.now()) });
  }
  const observed = answer.envelope.pong?.observed ? (fromSocketAddress(answer.envelope.pong.observed) ?? undefined) : undefined;
  if (observed) context.observed(answer.fromHex, address, observed);
  return { id: answer.fromHex, rttMs: clock.now() - started, observed };
}
