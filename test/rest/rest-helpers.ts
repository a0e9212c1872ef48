/** Real nodes on loopback with the REST adapter on a real HTTP server, for the REST tests. */
import { createServer, type Server } from 'node:http';
import { MccNode } from '../../src/index.js';
import { createRestHandler, type RestHandlerOptions } from '../../src/rest/index.js';

export interface RestNode {
  node: MccNode;
  server: Server;
  /** `http://127.0.0.1:PORT` */
  base: string;
}

type After = { after: (fn: () => unknown) => void };

/** Starts a node (joining `bootstrap` when given) and serves its REST handler on 127.0.0.1:0. */
export async function restNode(t: After, options: { bootstrap?: MccNode; rest?: RestHandlerOptions } = {}): Promise<RestNode> {
  const node = await plainNode(t, options.bootstrap);
  const server = createServer(createRestHandler(node, options.rest));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { node, server, base: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

/** A bare node (no REST), stopped after the test. */
export async function plainNode(t: After, bootstrap?: MccNode): Promise<MccNode> {
  const node = await MccNode.create({ host: '127.0.0.1', ...(bootstrap ? { bootstrap: [`127.0.0.1:${bootstrap.address.port}`] } : {}) });
  await node.start();
  t.after(() => node.stop());
  return node;
}

/** JSON request; returns status, headers and parsed body (text when not JSON). */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let parsed: unknown = text;
  if (/json/.test(response.headers.get('content-type') ?? '') && text.length > 0) parsed = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: parsed };
}

export interface SseEvent {
  event: string;
  data: any;
  /** performance.now() when it arrived. */
  at: number;
}

/** An open SSE subscription that collects events as they arrive. */
export class EventReader {
  readonly events: SseEvent[] = [];
  private readonly controller = new AbortController();
  private waiters: Array<() => void> = [];
  private done: Promise<void>;

  private constructor(response: Response) {
    this.done = this.pump(response).catch(() => {});
  }

  static async open(url: string): Promise<EventReader> {
    const controller = new AbortController();
    const response = await fetch(url, { signal: controller.signal, headers: { accept: 'text/event-stream' } });
    if (response.status !== 200) throw new Error(`events: HTTP ${response.status}`);
    const reader = new EventReader(response);
    reader.controller.signal.addEventListener('abort', () => controller.abort());
    return reader;
  }

  private async pump(response: Response): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) this.events.push({ event, data: JSON.parse(data), at: performance.now() });
      }
      for (const wake of this.waiters.splice(0)) wake();
    }
  }

  /** Resolves with the first event (from index `from` on) that `match` accepts; rejects after `timeoutMs`. */
  async next(match: (event: SseEvent) => boolean, timeoutMs: number, from = 0): Promise<SseEvent> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found) return found;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms; got ${this.events.map((event) => event.event).join(', ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.done;
  }
}
