/** Types and constants shared by the stream table and its users. */

import type { RecvStream } from './recv-stream.js';
import type { SendStream } from './send-stream.js';

/** Credit both sides assume before the peer's first MAX_DATA / MAX_STREAM_DATA. */
export const INITIAL_STREAM_CREDIT = 64 * 1024;

/** Stream error codes carried in RESET_STREAM / STOP_SENDING. */
export const StreamCode = {
  /** The application destroyed the stream. */
  CANCELLED: 0,
  /** The receiver already had too many streams open. */
  REFUSED: 1,
} as const;

/** What the connection tells the application, in order. */
export type ConnectionEvent =
  | { type: 'stream'; id: number }
  | { type: 'readable'; id: number }
  | { type: 'writable'; id: number }
  | { type: 'reset'; id: number; code: number }
  | { type: 'stop'; id: number; code: number }
  | { type: 'closed'; code: number; reason: string; remote: boolean };

/** Per-stream state of a {@link StreamTable} (internal). */
export interface StreamEntry {
  readonly id: number;
  readonly local: boolean;
  readonly send: SendStream;
  readonly recv: RecvStream;
  queued: boolean;
  stopPending: boolean;
  stopCode: number;
  creditPending: boolean;
  readableQueued: boolean;
  writeWanted: boolean;
  aborted: boolean;
}
