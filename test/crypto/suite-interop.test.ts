/**
 * Nodes on different crypto suites talk to each other over real UDP on loopback: sealed
 * DHT pings both ways and a tunnel stream (forward-secret handshake, AEAD per packet).
 * Proves on the wire what the vector tests prove per primitive: every suite puts the
 * same bytes on the wire.
 */

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { MccNode } from '../../src/index.js';
import { suites } from '../helpers/suites.js';

function echo(stream: Duplex, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
    stream.end(payload);
  });
}

const digest = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

// Each unordered pair once; both directions are exercised inside.
const pairs = suites.flatMap((a, i) => suites.slice(i + 1).map((b) => [a, b] as const));

describe(`crypto suites interoperate over UDP (${suites.map((suite) => suite.name).join(', ')})`, () => {
  for (const [first, second] of pairs) {
    it(`${first.name} <-> ${second.name}: pings both ways and a tunnel echo`, { timeout: 60_000 }, async (t) => {
      const a = await MccNode.create({ host: '127.0.0.1', crypto: first });
      await a.start();
      const b = await MccNode.create({ host: '127.0.0.1', crypto: second, bootstrap: [a.address] });
      t.after(() => Promise.all([a.stop(), b.stop()]));
      await b.start();
      assert.equal(a.stats().crypto, first.name);
      assert.equal(b.stats().crypto, second.name);
      assert.equal((await b.ping(a.address)).id, a.idHex);
      assert.equal((await a.ping(b.address)).id, b.idHex);
      await a.register('echo', { handler: (stream) => stream.pipe(stream) });
      const payload = randomBytes(300_000);
      const back = await echo(await b.connect(a.idHex, { service: 'echo' }), payload);
      assert.equal(digest(back), digest(payload));
      assert.equal(a.stats().dropped.unauthenticated + b.stats().dropped.unauthenticated, 0, 'nothing failed to authenticate');
    });
  }
});
