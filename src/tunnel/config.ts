/** Tunnel connection settings and their defaults. */

import { invalidArgument } from '../errors.js';

/** Tunable limits of a tunnel connection. Every field has a default. */
export interface TunnelConfig {
  /** Receive window per stream in bytes (flow control; default 1 MiB). */
  streamWindow: number;
  /** Receive window per connection in bytes, all streams together (default 16 MiB). */
  connectionWindow: number;
  /** Unacknowledged bytes a stream holds before `write()` returns false (default 1 MiB). */
  sendBufferSize: number;
  /** Concurrent streams the peer may open; more are refused with a reset (default 1024). */
  maxStreams: number;
  /** Close the connection after this long without hearing from the peer (default 30 s). */
  idleTimeoutMs: number;
  /** Send a PING after this long without sending anything ack-eliciting (default 10 s). */
  keepAliveMs: number;
  /** Longest we hold an ACK back; the peer assumes the same value (default 5 ms). */
  maxAckDelayMs: number;
  /** Ack-eliciting packets received before an ACK goes out at once (default 8; RFC 9000 suggests 2). */
  ackEveryPackets: number;
  /** RTT assumed before the first sample (default 100 ms; the driver passes the handshake RTT). */
  initialRttMs: number;
  /** Rotate keys after this long (default 10 minutes). */
  rekeyAfterMs: number;
  /** Rotate keys after this many bytes sent (default 2^30). */
  rekeyAfterBytes: number;
  /** Upper bound of the congestion window in bytes (default 16 MiB). */
  maxCongestionWindow: number;
}

/** The defaults. */
export const defaultTunnelConfig: Readonly<TunnelConfig> = Object.freeze({
  streamWindow: 1024 * 1024,
  connectionWindow: 16 * 1024 * 1024,
  sendBufferSize: 1024 * 1024,
  maxStreams: 1024,
  idleTimeoutMs: 30_000,
  keepAliveMs: 10_000,
  maxAckDelayMs: 5,
  ackEveryPackets: 8,
  initialRttMs: 100,
  rekeyAfterMs: 10 * 60_000,
  rekeyAfterBytes: 2 ** 30,
  maxCongestionWindow: 16 * 1024 * 1024,
});

/** Merges `partial` over the defaults, validating every given field. */
export function resolveTunnelConfig(partial: Partial<TunnelConfig> = {}): TunnelConfig {
  const config = { ...defaultTunnelConfig, ...partial };
  for (const [key, value] of Object.entries(config)) {
    if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
      throw invalidArgument(`tunnel.${key}`, 'must be a positive finite number');
    }
  }
  if (config.keepAliveMs >= config.idleTimeoutMs) throw invalidArgument('tunnel.keepAliveMs', 'must be below idleTimeoutMs');
  return config;
}
