/** One peer lying about the address it sees us at cannot put that address into our provider records. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MccNode } from '../../src/index.js';
import { toSocketAddress } from '../../src/wire/address.js';

test('a lying ping answer is outvoted by honest observers and never advertised', async (t) => {
  const honest = [await MccNode.create({ host: '127.0.0.1' }), await MccNode.create({ host: '127.0.0.1' })];
  const liar = await MccNode.create({ host: '127.0.0.1' });
  await Promise.all([...honest, liar].map((node) => node.start()));
  // The liar answers every ping with a third party's address (a documentation-range IP: never sent to).
  liar.rpc.handle('ping', () => ({ pong: { observed: toSocketAddress({ host: '203.0.113.7', port: 4000 }) } }));
  const node = await MccNode.create({ host: '127.0.0.1', bootstrap: honest.map((peer) => peer.address) });
  await node.start();
  t.after(() => Promise.all([node, ...honest, liar].map((peer) => peer.stop())));
  const answer = await node.ping(liar.address);
  assert.equal(answer.observed?.host, '203.0.113.7', 'the liar did lie');
  const advertised = (node as unknown as { nat: { selfInfo(fallback: unknown[]): { addresses: { host: string }[] } } }).nat.selfInfo([]).addresses;
  assert.ok(advertised.length > 0);
  assert.ok(!advertised.some((address) => address.host === '203.0.113.7'), `not advertised: ${JSON.stringify(advertised)}`);
  // What a reader of our provider record sees.
  await node.register('svc', { port: 8080 });
  const [provider] = await honest[0].lookup('svc', { fresh: true });
  assert.ok(provider, 'the record is found');
  assert.ok(!JSON.stringify(provider).includes('203.0.113.7'), 'the record carries no lie');
});

test('with a single honest observer, a liar ties and the earlier (honest) report keeps our public address', async (t) => {
  const honest = await MccNode.create({ host: '127.0.0.1' });
  const liar = await MccNode.create({ host: '127.0.0.1' });
  await Promise.all([honest.start(), liar.start()]);
  liar.rpc.handle('ping', () => ({ pong: { observed: toSocketAddress({ host: '203.0.113.7', port: 4000 }) } }));
  const node = await MccNode.create({ host: '127.0.0.1', bootstrap: [honest.address] });
  await node.start();
  t.after(() => Promise.all([node, honest, liar].map((peer) => peer.stop())));
  for (let i = 0; i < 3; i++) await node.ping(liar.address); // many answers from one liar are one vote
  assert.equal(node.stats().nat.publicAddress?.host, '127.0.0.1');
  const advertised = (node as unknown as { nat: { selfInfo(fallback: unknown[]): { addresses: { host: string }[] } } }).nat.selfInfo([]).addresses;
  assert.ok(!advertised.some((address) => address.host === '203.0.113.7'), `not advertised: ${JSON.stringify(advertised)}`);
});
