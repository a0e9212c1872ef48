/** The public vocabulary of a tunnel connection: close codes and counters. */

/** Connection close codes carried in CLOSE frames. */
export const CloseCode = {
  /** Orderly close by the application. */
  NO_ERROR: 0,
  /** The peer sent something malformed or impossible. */
  PROTOCOL_VIOLATION: 1,
  /** The peer exceeded a flow-control window. */
  FLOW_CONTROL: 2,
  /** Nothing heard for the idle timeout (local only, never sent). */
  IDLE_TIMEOUT: 3,
  /** The peer opened far more streams than allowed. */
  STREAM_LIMIT: 4,
} as const;

/** Counters for diagnostics and benchmarks. */
export interface ConnectionStats {
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Frames declared lost (each is resent as needed). */
  framesLost: number;
  duplicates: number;
  /** Datagrams that failed authentication or decoding. */
  dropped: number;
  /** Probe timeouts fired. */
  probes: number;
  /** Times the window collapsed to its minimum after a blackout (RFC 9002 §7.6). */
  persistentCongestion: number;
}
