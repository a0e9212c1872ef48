/** The 100 MB byte-exact echo through one tunnel stream, over real UDP loopback (`npm run test:scale`). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UdpTransport } from '../../src/transport/udp.js';
import { systemClock, TrackedClock } from '../../src/util/clock.js';
import { assertEchoIntact, connectPair } from '../tunnel/helpers.js';

const enabled = process.env.MCC_SCALE === '1';
const ECHO_MB = 100;

describe('tunnel at scale', { skip: !enabled && 'set MCC_SCALE=1 (npm run test:scale)' }, () => {
  it(`byte-exact echo of ${ECHO_MB} MB through one stream over UDP loopback`, async () => {
    const clock = new TrackedClock(systemClock);
    const pair = await connectPair(new UdpTransport({ host: '127.0.0.1' }), new UdpTransport({ host: '127.0.0.1' }), clock);
    await assertEchoIntact(pair, ECHO_MB);
    await pair.close();
    assert.equal(clock.pending, 0, 'no timer left behind');
  });
});
