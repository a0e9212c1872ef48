/**
 * TunnelStream's read side: chunks the connection holds (one per packet) reach the
 * consumer joined, in order, and only as far as the readable buffer has room, since
 * reading is what grants the peer more credit. The StreamHost here is a queue of chunks,
 * the seam's other side; the stream under test is the real one.
 */

import assert from 'node:assert/strict';
import test from 'node:test';
import { STREAM_HIGH_WATER_MARK, TunnelStream, type StreamHost } from '../../src/tunnel/stream.js';

/** A connection's side of the seam reduced to a queue of received chunks and an end flag. */
class QueueHost implements StreamHost {
  chunks: Uint8Array[] = [];
  ended = false;
  reads = 0;
  streamWrite(_id: number, data: Uint8Array): number {
    return data.length;
  }
  streamFinish(): void {}
  streamRead(): Uint8Array | null {
    const chunk = this.chunks.shift() ?? null;
    if (chunk !== null) this.reads++;
    return chunk;
  }
  streamTakeEnd(): boolean {
    const ended = this.ended && this.chunks.length === 0;
    if (ended) this.ended = false;
    return ended;
  }
  streamAbort(): void {}
  streamReleased(): void {}
}

/** `count` packet-sized chunks whose bytes count up from `from` (mod 256). */
function packets(count: number, size: number, from = 0): Uint8Array[] {
  const out: Uint8Array[] = [];
  let value = from;
  for (let i = 0; i < count; i++) {
    const chunk = new Uint8Array(size);
    for (let j = 0; j < size; j++) chunk[j] = value++ & 0xff;
    out.push(chunk);
  }
  return out;
}

test('chunks waiting in the connection reach the consumer as one joined chunk, bytes in order', async () => {
  const host = new QueueHost();
  const stream = new TunnelStream(host, 0);
  host.chunks = packets(20, 1141);
  host.ended = true;
  const received: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => received.push(chunk));
  await new Promise((resolve) => stream.once('end', resolve));
  assert.equal(received.length, 1, 'one push for the 20 chunks that were waiting');
  const all = Buffer.concat(received);
  assert.equal(all.length, 20 * 1141);
  for (let i = 0; i < all.length; i++) assert.equal(all[i], i & 0xff);
});

test('a chunk that arrives alone is pushed as it is (no copy needed)', async () => {
  const host = new QueueHost();
  const stream = new TunnelStream(host, 0);
  const [only] = packets(1, 500);
  host.chunks = [only];
  const first = new Promise<Buffer>((resolve) => stream.once('data', resolve));
  stream.resume();
  assert.equal((await first).buffer, only.buffer);
  stream.destroy();
});

test('pulls no further than the readable buffer has room: the rest stays in the connection, unread', async () => {
  const host = new QueueHost();
  const stream = new TunnelStream(host, 0);
  const size = 1141;
  const total = 2 * Math.ceil(STREAM_HIGH_WATER_MARK / size);
  host.chunks = packets(total, size);
  // Paused: nobody consumes, so the buffer fills to the high-water mark and pulling stops.
  stream.on('readable', () => {});
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(stream.readableLength >= STREAM_HIGH_WATER_MARK - size, 'the buffer filled');
  assert.ok(stream.readableLength < STREAM_HIGH_WATER_MARK + size, 'at most one chunk beyond the high-water mark');
  assert.ok(host.chunks.length >= total / 2 - 1, 'about half the chunks are still in the connection');
  // Consuming everything delivers every byte, in order.
  host.ended = true;
  const received: Buffer[] = [];
  stream.removeAllListeners('readable');
  stream.on('data', (chunk: Buffer) => received.push(chunk));
  await new Promise((resolve) => stream.once('end', resolve));
  const all = Buffer.concat(received);
  assert.equal(all.length, total * size);
  for (let i = 0; i < all.length; i++) assert.equal(all[i], i & 0xff);
  assert.equal(host.reads, total);
});
