import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MccNode } from '../../src/index.js';

test('stats(): tunnel traffic is counted on the way out as on the way in', async (t) => {
  const a = await MccNode.create({ host: '127.0.0.1' });
  await a.start();
  const b = await MccNode.create({ host: '127.0.0.1', bootstrap: [a.address] });
  await b.start();
  t.after(async () => {
    await b.stop();
    await a.stop();
  });
  await a.register('sink', {
    handler: (stream) => {
      stream.resume();
      stream.on('end', () => stream.end('done'));
    },
  });
  const stream = await b.connect('sink');
  stream.end(Buffer.alloc(300_000, 7));
  let answer = '';
  for await (const chunk of stream) answer += chunk;
  assert.equal(answer, 'done');
  const sent = b.stats();
  const received = a.stats();
  // Only a and b talk, on loopback: what one sent the other received (a few packets may still be in flight).
  assert.ok(sent.bytesOut >= 300_000, `b counted ${sent.bytesOut} bytes out after sending 300,000 through a tunnel`);
  assert.ok(Math.abs(sent.datagramsOut - received.datagramsIn) <= 5, `b out ${sent.datagramsOut} vs a in ${received.datagramsIn}`);
  assert.ok(Math.abs(received.datagramsOut - sent.datagramsIn) <= 5, `a out ${received.datagramsOut} vs b in ${sent.datagramsIn}`);
});
