/** Link profiles of the simulated network: how a path between two hosts delays, loses and mangles datagrams. */
import { invalidArgument } from '../../errors.js';

/** Behaviour of the path between two hosts. All probabilities are per datagram. */
export interface LinkProfile {
  /** One-way base latency in milliseconds. */
  latencyMs: number;
  /** Uniform jitter in milliseconds: each datagram's delay is `latencyMs ± jitterMs` (never below 0). Jitter alone can reorder. */
  jitterMs: number;
  /** Probability (0..1) a datagram is lost. */
  loss: number;
  /** Probability (0..1) a datagram is delivered twice (the copy gets its own jitter). */
  duplicate: number;
  /** Probability (0..1) a datagram is held back by an extra delay so later ones overtake it. */
  reorder: number;
  /** Extra delay of a reordered datagram, in ms; the actual hold is uniform in [0.5, 1.5) × this. Default max(10, latencyMs). */
  reorderDelayMs?: number;
  /**
   * Bottleneck bandwidth in bits per second from the sending host towards the
   * receiving host: adds serialisation delay, and datagrams queue behind each other.
   * Unset = unlimited.
   */
  bandwidthBps?: number;
  /** Bound of that sender queue in bytes; a datagram that would exceed it is dropped (`queue`). Default 64 KiB. */
  queueBytes?: number;
}

/** The profile used when nothing else is configured: 5 ms one way, no jitter, no loss. */
export const DEFAULT_LINK: Readonly<LinkProfile> = Object.freeze({ latencyMs: 5, jitterMs: 0, loss: 0, duplicate: 0, reorder: 0 });

/** The profile between two hosts on the same LAN behind a NAT, unless the NAT says otherwise. */
export const DEFAULT_LAN_LINK: Readonly<LinkProfile> = Object.freeze({ latencyMs: 0.5, jitterMs: 0, loss: 0, duplicate: 0, reorder: 0 });

/** Default sender queue bound when `bandwidthBps` is set. */
export const DEFAULT_QUEUE_BYTES = 64 * 1024;

function probability(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw invalidArgument(argument, 'expected a probability 0..1');
  return value;
}

function nonNegative(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw invalidArgument(argument, 'expected a finite number >= 0');
  return value;
}

/** Fills a partial profile from `base` and validates it; throws `ERR_INVALID_ARGUMENT` naming the bad field. */
export function resolveLink(partial: Partial<LinkProfile> | undefined, base: Readonly<LinkProfile> = DEFAULT_LINK, argument = 'link'): LinkProfile {
  if (partial !== undefined && (partial === null || typeof partial !== 'object')) throw invalidArgument(argument, 'expected a link profile object');
  const merged = { ...base, ...partial };
  const profile: LinkProfile = {
    latencyMs: nonNegative(merged.latencyMs, `${argument}.latencyMs`),
    jitterMs: nonNegative(merged.jitterMs, `${argument}.jitterMs`),
    loss: probability(merged.loss, `${argument}.loss`),
    duplicate: probability(merged.duplicate, `${argument}.duplicate`),
    reorder: probability(merged.reorder, `${argument}.reorder`),
  };
  if (merged.reorderDelayMs !== undefined) profile.reorderDelayMs = nonNegative(merged.reorderDelayMs, `${argument}.reorderDelayMs`);
  if (merged.bandwidthBps !== undefined) {
    if (!(typeof merged.bandwidthBps === 'number' && merged.bandwidthBps > 0)) throw invalidArgument(`${argument}.bandwidthBps`, 'expected a number > 0');
    profile.bandwidthBps = merged.bandwidthBps;
  }
  if (merged.queueBytes !== undefined) profile.queueBytes = nonNegative(merged.queueBytes, `${argument}.queueBytes`);
  return profile;
}
