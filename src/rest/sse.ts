/**
 * Server-Sent Events: one open response per subscriber, a comment every 15 s so proxies
 * and idle timeouts keep it open, and an AbortSignal that fires when the client leaves
 * (the producer stops with it, so a closed tab costs nothing).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Keep-alive comment interval, ms. */
const HEARTBEAT_MS = 15_000;

/** An open event stream. */
export interface EventStream {
  /** Sends one event; false when the client is gone. Drops events while the client is not reading (backpressure). */
  send(event: string, data: unknown): boolean;
  /** Fires when the client disconnects or the stream is closed. */
  readonly signal: AbortSignal;
  close(): void;
}

/** Starts an SSE response. */
export function openEventStream(request: IncomingMessage, response: ServerResponse): EventStream {
  const controller = new AbortController();
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  });
  response.flushHeaders();
  // Small events must not wait for Nagle's algorithm.
  request.socket.setNoDelay(true);
  response.write(': mcc-mesh events\n\n');
  const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  const close = (): void => {
    if (controller.signal.aborted) return;
    clearInterval(heartbeat);
    controller.abort();
    response.end();
  };
  request.once('close', close);
  response.once('close', close);
  let id = 0;
  return {
    signal: controller.signal,
    close,
    send(event, data) {
      if (controller.signal.aborted) return false;
      // A client that does not read gets no unbounded queue: events are dropped until it drains.
      if (response.writableNeedDrain) return true;
      response.write(`id: ${++id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      return true;
    },
  };
}
