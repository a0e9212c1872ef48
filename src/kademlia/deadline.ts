/**
 * AbortSignals with a deadline on the injected clock (never the global timers), and child
 * controllers linked to a parent signal through ONE shared listener per parent.
 *
 * Why the fan-out: a DHT operation starts many RPCs at once (a STORE to 20 holders, 16
 * pages in flight per holder, a refresh lookup per bucket), and the caller often passes
 * one signal to many concurrent operations. One `abort` listener per child on the
 * caller's signal would cross Node's listener limit and print MaxListenersExceededWarning
 * (and cost O(n) per add/remove); here a parent carries at most one listener, whatever the
 * number of children, and drops it when its last child is released.
 */
import type { Clock } from '../util/clock.js';

/** A signal that aborts after `ms` on `clock` or when `parent` aborts; call `dispose` when done. */
export interface Deadline {
  signal: AbortSignal;
  /** Aborts now (e.g. the owner stopped). */
  abort(reason?: unknown): void;
  dispose(): void;
}

/** A controller that also aborts when its parent does; `dispose` unlinks it (idempotent). */
export interface LinkedController {
  controller: AbortController;
  dispose(): void;
}

interface Fanout {
  children: Set<AbortController>;
  listener: () => void;
}

const fanouts = new WeakMap<AbortSignal, Fanout>();

/** Creates a controller aborted with `parent`'s reason when `parent` aborts, sharing one listener per parent. */
export function linkedController(parent?: AbortSignal): LinkedController {
  const controller = new AbortController();
  if (parent === undefined) return { controller, dispose() {} };
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { controller, dispose() {} };
  }
  let fanout = fanouts.get(parent);
  if (fanout === undefined) {
    const created: Fanout = {
      children: new Set(),
      listener: () => {
        fanouts.delete(parent);
        for (const child of created.children) child.abort(parent.reason);
        created.children.clear();
      },
    };
    fanout = created;
    fanouts.set(parent, fanout);
    parent.addEventListener('abort', fanout.listener, { once: true });
  }
  fanout.children.add(controller);
  const own = fanout;
  return {
    controller,
    dispose() {
      if (!own.children.delete(controller) || own.children.size > 0) return;
      parent.removeEventListener('abort', own.listener);
      if (fanouts.get(parent) === own) fanouts.delete(parent);
    },
  };
}

/** Creates a {@link Deadline}. */
export function deadline(clock: Clock, ms: number, parent?: AbortSignal): Deadline {
  const linked = linkedController(parent);
  const controller = linked.controller;
  const timer = controller.signal.aborted ? undefined : clock.setTimeout(() => controller.abort(new Error('deadline')), ms);
  return {
    signal: controller.signal,
    abort: (reason?: unknown) => controller.abort(reason),
    dispose() {
      if (timer !== undefined) clock.clearTimeout(timer);
      linked.dispose();
    },
  };
}
