/**
 * Exceptions caught on a receive path. A receive path never throws (one datagram must not
 * take the node down), but an exception there is a bug of ours, not the peer's fault: it
 * is counted as the drop reason `internal`, apart from input that is merely malformed, and
 * logged at warn level once per kind (error name and first stack frame), so a flood of the
 * same bug costs one log line.
 */
import { MccError } from '../errors.js';
import type { Logger } from './logger.js';
import type { Stats } from './stats.js';

/** Kinds remembered as logged; beyond, further kinds are counted but not logged. */
const MAX_LOGGED_KINDS = 64;

/**
 * True when `error` is a decoder's typed report of bad input (`MccError` `ERR_DECODE`):
 * the datagram was malformed, nothing went wrong on our side.
 */
export function isDecodeError(error: unknown): boolean {
  return error instanceof MccError && error.code === 'ERR_DECODE';
}

/** Name and first stack frame of `error`: what "once per kind" compares. */
export function internalErrorKind(error: unknown): string {
  if (!(error instanceof Error)) return `thrown ${typeof error}`;
  const frame = error.stack
    ?.split('\n')
    .find((line) => line.trimStart().startsWith('at '))
    ?.trim();
  return frame === undefined ? error.name : `${error.name} ${frame}`;
}

/** Counts internal exceptions of one receive path as `internal` drops and logs each kind once. */
export class InternalErrors {
  private readonly logged = new Set<string>();

  constructor(
    private readonly stats: Stats,
    private readonly logger: Logger,
    /** Names the receive path in the log line, e.g. 'session receive'. */
    private readonly where: string,
  ) {}

  /** Counts `error` (caught on the receive path) and logs it when its kind is new. */
  record(error: unknown): void {
    this.stats.drop('internal');
    const kind = internalErrorKind(error);
    if (this.logged.has(kind) || this.logged.size >= MAX_LOGGED_KINDS) return;
    this.logged.add(kind);
    const message = error instanceof Error ? error.message : String(error);
    this.logger.warn(`internal error in ${this.where}, datagram dropped (a bug; logged once per kind): ${kind}: ${message}`, error);
  }
}
