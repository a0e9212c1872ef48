/**
 * Signals and waits of the connect pipeline (tunnel-service.ts): a handshake that several
 * callers share, a deadline on the node's clock, a cancellable pause.
 */
import { MccError, abortError, throwIfAborted } from '../errors.js';
import type { Clock } from '../util/clock.js';
import type { TunnelConnection } from '../tunnel/tunnel-connection.js';

/** A handshake in progress that several connect() calls may wait on. */
export interface SharedHandshake {
  promise: Promise<TunnelConnection>;
  controller: AbortController;
  waiting: number;
}

/** Waits for a shared handshake; the caller's abort rejects only this caller, and the last one out cancels it. */
export function waitFor(shared: SharedHandshake, signal: AbortSignal | undefined): Promise<TunnelConnection> {
  if (!signal) {
    shared.waiting++;
    return shared.promise.finally(() => shared.waiting--);
  }
  throwIfAborted(signal);
  shared.waiting++;
  return new Promise<TunnelConnection>((resolve, reject) => {
    let settled = false;
    const leave = (): boolean => {
      if (settled) return false;
      settled = true;
      shared.waiting--;
      signal.removeEventListener('abort', onAbort);
      return true;
    };
    const onAbort = (): void => {
      if (!leave()) return;
      if (shared.waiting === 0) shared.controller.abort(signal.reason);
      reject(new MccError('ERR_ABORTED', 'connect aborted', { cause: signal.reason }));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    shared.promise.then(
      (connection) => leave() && resolve(connection),
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the shared handshake's own error, unchanged
      (error: unknown) => leave() && reject(error),
    );
  });
}

/** A signal that fires when `parent` does or `timeoutMs` passes on `clock`. */
export function deadlineSignal(
  clock: Clock,
  timeoutMs: number,
  parent: AbortSignal | undefined,
): { signal: AbortSignal; expired: () => boolean; dispose: () => void } {
  const controller = new AbortController();
  let expired = false;
  const timer = clock.setTimeout(() => {
    expired = true;
    controller.abort(new MccError('ERR_TIMEOUT', `timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  const onAbort = (): void => controller.abort(parent!.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    expired: () => expired,
    dispose: () => {
      clock.clearTimeout(timer);
      parent?.removeEventListener('abort', onAbort);
    },
  };
}

/** Waits `ms` on `clock`; rejects when `signal` fires first. */
export function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal));
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
