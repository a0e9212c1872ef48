/** AbortSignals with a deadline on the injected clock (never the global timers). */
import type { Clock } from '../util/clock.js';

/** A signal that aborts after `ms` on `clock` or when `parent` aborts; call `dispose` when done. */
export interface Deadline {
  signal: AbortSignal;
  dispose(): void;
}

/** Creates a {@link Deadline}. */
export function deadline(clock: Clock, ms: number, parent?: AbortSignal): Deadline {
  const controller = new AbortController();
  const onParent = () => controller.abort(parent!.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onParent, { once: true });
  const timer = clock.setTimeout(() => controller.abort(new Error('deadline')), ms);
  return {
    signal: controller.signal,
    dispose() {
      clock.clearTimeout(timer);
      parent?.removeEventListener('abort', onParent);
    },
  };
}
