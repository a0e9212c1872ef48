/**
 * Typed errors. Every error mcc-mesh throws or rejects with is an {@link MccError}
 * carrying a stable machine-readable {@link MccErrorCode}, so callers can branch on
 * `err.code` instead of parsing messages.
 */

/** Stable error codes. New codes may be added; existing ones never change meaning. */
export type MccErrorCode =
  | 'ERR_INVALID_ARGUMENT' // a bad argument to a public API; `details.argument` names it
  | 'ERR_NOT_STARTED' // the node is not started (or already stopped)
  | 'ERR_ALREADY_STARTED'
  | 'ERR_STOPPED' // the node was stopped while the operation was pending
  | 'ERR_TIMEOUT' // a request or operation ran out of time
  | 'ERR_ABORTED' // the caller's AbortSignal fired
  | 'ERR_DATAGRAM_TOO_LARGE' // an encoded datagram would exceed the size limit
  | 'ERR_DECODE' // bytes could not be decoded
  | 'ERR_CRYPTO' // authentication failed or a key was invalid
  | 'ERR_IDENTITY' // an identity file could not be read or written
  | 'ERR_TRANSPORT' // the socket failed (bind error, closed socket)
  | 'ERR_PEER' // the remote peer answered with an error or misbehaved
  | 'ERR_NOT_FOUND' // nothing was found (no providers, no value)
  | 'ERR_UNREACHABLE' // no path to the peer could be established
  | 'ERR_STREAM' // a stream was reset or failed
  | 'ERR_LIMIT'; // a resource limit was hit

/** The error class of mcc-mesh. `code` is stable; `message` is for humans. */
export class MccError extends Error {
  /** Stable machine-readable code. */
  readonly code: MccErrorCode;
  /** Optional structured details, e.g. `{ argument: 'port' }`. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: MccErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MccError';
    this.code = code;
    this.details = options?.details;
  }
}

/** Builds the error for a bad API argument; the message names the argument. */
export function invalidArgument(argument: string, problem: string): MccError {
  return new MccError('ERR_INVALID_ARGUMENT', `invalid argument "${argument}": ${problem}`, { details: { argument } });
}

/** Rejects early when a signal is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/** The error an aborted operation rejects with; keeps the signal's reason as `cause`. */
export function abortError(signal: AbortSignal): MccError {
  return new MccError('ERR_ABORTED', 'operation aborted', { cause: signal.reason });
}
