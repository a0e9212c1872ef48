/** The 100 MB byte-exact echo through one tunnel stream, over real UDP loopback (`npm run test:scale`). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { UdpTransport } from '../../src/transport/udp.js';
import { systemClock, TrackedClock } from '../../src/util/clock.js';
import type { TunnelStream } from '../../src/tunnel/stream.js';
import { connectPair, patternBytes, writeAll } from '../tunnel/helpers.js';

const enabled = process.env.MCC_SCALE === '1';
const ECHO_MB = 100;

describe('tunnel at scale', { skip: !enabled && 'set MCC_SCALE=1 (npm run test:scale)' }, () => {
  it(`byte-exact echo of ${ECHO_MB} MB through one stream over UDP loopback`, async () => {
    const clock = new TrackedClock(systemClock);
    const pair = await connectPair(new UdpTransport({ host: '127.0.0.1' }), new UdpTransport({ host: '127.0.0.1' }), clock);
    pair.serverConnection.on('stream', (s: TunnelStream) => s.pipe(s));
    const data = patternBytes(ECHO_MB * 1024 * 1024);
    const stream = pair.clientConnection.openStream();
    const hash = createHash('sha256');
    let length = 0;
    stream.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
    });
    const ended = new Promise((resolve) => stream.once('end', resolve));
    await writeAll(stream, data);
    await ended;
    assert.equal(length, data.length);
    assert.equal(hash.digest('hex'), createHash('sha256').update(data).digest('hex'));
    await pair.close();
    assert.equal(clock.pending, 0, 'no timer left behind');
  });
});
