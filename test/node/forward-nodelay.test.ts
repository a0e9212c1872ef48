/**
 * Both TCP legs of a forward run with Nagle's algorithm off (issue 16): the socket a
 * forward accepts and the provider's connection to the service it registered with
 * `{ port }`. With Nagle on, every HTTP answer larger than a segment waited ~40 ms for
 * a delayed ACK; through the tunnel that was 22 requests/s on one keep-alive connection.
 *
 * Checked structurally: setNoDelay(true) reached a socket on each leg, told apart by its
 * ports, while sequential 16 KiB answers ran on one keep-alive connection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, createServer, request } from 'node:http';
import { Socket } from 'node:net';
import { MccNode } from '../../src/index.js';
import { median } from '../../bench/util.js';

const ANSWER = Buffer.alloc(16 * 1024, 0x61);
const ROUNDS = 20;
/** Pause between the two writes of a request or an answer. */
const GAP_MS = 1;

test('forward(): no-delay on the accepted socket and on the provider connection to the service', async (t) => {
  // Record every socket that got setNoDelay(true) while this test runs.
  const noDelay = new Set<Socket>();
  const original = Socket.prototype.setNoDelay;
  Socket.prototype.setNoDelay = function (this: Socket, enable?: boolean) {
    if (enable !== false) noDelay.add(this);
    return original.call(this, enable);
  };
  t.after(() => {
    Socket.prototype.setNoDelay = original;
  });

  // Requests and answers each leave in two writes a moment apart (so the tunnel carries them
  // in separate packets and each leg writes twice): with Nagle on, the second write waits
  // until the first is acknowledged, and the peer, having nothing to say yet, delays that ACK.
  const server = createServer((req, res) => {
    req.resume();
    req.once('end', () => {
      res.writeHead(200, { 'content-length': ANSWER.length });
      res.write(ANSWER.subarray(0, 100));
      setTimeout(() => res.end(ANSWER.subarray(100)), GAP_MS);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  const servicePort = (server.address() as { port: number }).port;

  const a = await MccNode.create({ host: '127.0.0.1' });
  await a.start();
  const b = await MccNode.create({ host: '127.0.0.1', bootstrap: [a.address] });
  const c = await MccNode.create({ host: '127.0.0.1', bootstrap: [a.address] });
  await Promise.all([b.start(), c.start()]);
  t.after(() => Promise.all([a.stop(), b.stop(), c.stop()]));
  await b.register('web', { port: servicePort });
  const forward = await c.forward('web', { port: 0 });
  t.after(() => forward.close());

  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const get = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const start = performance.now();
      const req = request({ host: '127.0.0.1', port: forward.address.port, path: '/', method: 'POST', headers: { 'content-length': 100 }, agent }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.once('end', () => (bytes === ANSWER.length ? resolve(performance.now() - start) : reject(new Error(`short answer: ${bytes} B`))));
        res.once('error', reject);
      });
      req.once('error', reject);
      req.flushHeaders();
      setTimeout(() => req.end(ANSWER.subarray(0, 100)), GAP_MS);
    });

  await get(); // tunnel handshake and stream set-up are not what this measures
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) times.push(await get());

  const sockets = [...noDelay].filter((socket) => !socket.destroyed);
  assert.ok(
    sockets.some((socket) => socket.localPort === forward.address.port),
    'the socket the forward accepted has no-delay',
  );
  assert.ok(
    sockets.some((socket) => socket.remotePort === servicePort),
    "the provider's connection to the registered service has no-delay",
  );
  // Timings are the benchmark's business (bench/http-forward.ts); printed here for the log only.
  console.log(`median request through the forward: ${median(times).toFixed(1)} ms (a Nagle stall would be ~40 ms)`);
});
