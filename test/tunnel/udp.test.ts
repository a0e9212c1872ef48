import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { UdpTransport } from '../../src/transport/udp.js';
import { systemClock, TrackedClock } from '../../src/util/clock.js';
import type { TunnelStream } from '../../src/tunnel/stream.js';
import { assertEchoIntact, connectPair, patternBytes, readAll, writeAll, type TunnelPair } from './helpers.js';

async function udpPair(clock = new TrackedClock(systemClock)): Promise<TunnelPair & { clock: TrackedClock }> {
  const pair = await connectPair(new UdpTransport({ host: '127.0.0.1' }), new UdpTransport({ host: '127.0.0.1' }), clock);
  return Object.assign(pair, { clock });
}

function once<T = unknown>(emitter: { once: (...args: any[]) => unknown }, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, resolve));
}

/** A few MB keep the normal suite fast; the 100 MB echo is in test/scale/tunnel.test.ts (`npm run test:scale`). */
const ECHO_MB = 4;

test(`byte-exact echo of ${ECHO_MB} MB through one stream over UDP loopback`, async () => {
  const pair = await udpPair();
  await assertEchoIntact(pair, ECHO_MB);
  await pair.close();
  assert.equal(pair.clock.pending, 0, 'no timer left behind');
});

test('100 concurrent streams of 1 MB each', async () => {
  const pair = await udpPair();
  // The server answers each stream with the SHA-256 of what it received (1 MB up, 32 bytes down per stream).
  pair.serverConnection.on('stream', (s: TunnelStream) => {
    const hash = createHash('sha256');
    s.on('data', (chunk: Buffer) => hash.update(chunk));
    s.on('end', () => s.end(hash.digest()));
  });
  const results = await Promise.all(
    Array.from({ length: 100 }, async (_, i) => {
      const data = patternBytes(1024 * 1024, i);
      const stream = pair.clientConnection.openStream();
      const received = readAll(stream);
      await writeAll(stream, data);
      return (await received).equals(createHash('sha256').update(data).digest());
    }),
  );
  assert.equal(results.filter(Boolean).length, 100);
  assert.equal(pair.clientConnection.core.streams.size, 0, 'finished streams are released');
  await pair.close();
  assert.equal(pair.clock.pending, 0);
});

test('half-close: each side ends its writing half independently', async () => {
  const pair = await udpPair();
  pair.serverConnection.on('stream', (s: TunnelStream) => {
    // The client's FIN ends our readable side, and we can still answer.
    void readAll(s).then((request) => s.end(Buffer.concat([Buffer.from('got '), request])));
  });
  const stream = pair.clientConnection.openStream();
  const response = readAll(stream);
  const closed = once(stream, 'close');
  stream.end('hello');
  assert.equal((await response).toString(), 'got hello');
  await closed; // both halves done: the stream closes cleanly, without error
  assert.equal(stream.errored, null);
  await pair.close();
});

test('destroy(err) resets the stream: the peer sees ERR_STREAM, the connection lives on', async () => {
  const pair = await udpPair();
  const serverSide = once<TunnelStream>(pair.serverConnection, 'stream');
  const stream = pair.clientConnection.openStream();
  stream.write('partial');
  const server = await serverSide;
  const serverError = once<Error & { code?: string }>(server, 'error');
  server.resume();
  const ownError = once<Error>(stream, 'error');
  stream.destroy(new Error('changed my mind'));
  assert.equal((await ownError).message, 'changed my mind', 'destroy(err) reports err locally, as Node streams do');
  const error = await serverError;
  assert.equal(error.code, 'ERR_STREAM');
  assert.match(error.message, /reset by peer/);
  // A reset from the other direction: the client sees it too.
  const second = once<TunnelStream>(pair.serverConnection, 'stream');
  const stream2 = pair.clientConnection.openStream();
  stream2.write('x');
  const server2 = await second;
  const clientError = once<Error & { code?: string }>(stream2, 'error');
  server2.destroy();
  assert.equal((await clientError).code, 'ERR_STREAM');
  // The connection still carries new streams.
  pair.serverConnection.on('stream', (s: TunnelStream) => s.pipe(s));
  const stream3 = pair.clientConnection.openStream();
  const echoed = readAll(stream3);
  stream3.end('still alive');
  assert.equal((await echoed).toString(), 'still alive');
  await pair.close();
});

test('a slow reader keeps memory bounded: the writer is held back by backpressure', async () => {
  const config = { streamWindow: 256 * 1024, sendBufferSize: 256 * 1024, connectionWindow: 1024 * 1024 };
  const pair = await connectPair(new UdpTransport({ host: '127.0.0.1' }), new UdpTransport({ host: '127.0.0.1' }), systemClock, config);
  const serverSide = once<TunnelStream>(pair.serverConnection, 'stream');
  const stream = pair.clientConnection.openStream();
  let written = 0;
  let blocked = false;
  const chunk = Buffer.alloc(16 * 1024, 7);
  // Write until backpressure says stop (bounded loop), without any reader consuming.
  stream.write('x');
  const server = await serverSide;
  server.pause();
  for (let i = 0; i < 4096 && !blocked; i++) {
    if (!stream.write(chunk)) {
      blocked = true;
      await Promise.race([once(stream, 'drain'), new Promise((r) => setTimeout(r, 300))]);
      blocked = stream.writableNeedDrain;
    }
    written += chunk.length;
  }
  assert.ok(blocked, 'write() returned false and drain did not come while nobody reads');
  // Give the transfer time to fill every window, then check nothing grew beyond the bounds.
  await new Promise((r) => setTimeout(r, 300));
  const bound = config.streamWindow + config.sendBufferSize + 2 * 64 * 1024 + 2 * chunk.length;
  const inFlightOrBuffered = stream.writableLength + pair.clientConnection.core.streams.buffered(stream.id) + server.readableLength;
  assert.ok(written <= bound + chunk.length, `writer was stopped after ${written} bytes (bound ${bound})`);
  assert.ok(inFlightOrBuffered <= bound, `buffered ${inFlightOrBuffered} bytes (bound ${bound})`);
  // Reading resumes the flow: everything written arrives.
  let received = 0;
  server.on('data', (c: Buffer) => (received += c.length));
  server.resume();
  stream.end();
  await once(server, 'end');
  assert.equal(received, written + 1);
  const clientClosed = once(stream, 'close');
  server.end(); // finish the other half too: both streams then close cleanly
  stream.resume();
  await clientClosed;
  assert.equal(stream.errored, null);
  await pair.close();
});
