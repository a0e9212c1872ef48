import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestnet } from '../../src/testing/index.js';

test('a public node whose dial-backs stay inconclusive (too few peers) keeps relaying and serving the DHT', async (t) => {
  // Two public nodes only: each has one observer and no third party for a dial-back, so the
  // reachability check never concludes; each is seen at its own socket address.
  const testnet = await createTestnet({ size: 1, bootstrapNodes: 1 });
  t.after(() => testnet.stop());
  const [node] = testnet.nodes;
  await testnet.run(new Promise<void>((resolve) => testnet.clock.setTimeout(() => resolve(), 120_000)), 130_000);
  const status = node.stats().nat;
  assert.equal(status.reachable, undefined, 'the dial-back never concluded');
  assert.equal(status.relayServer.enabled, true, 'still offers relaying');
  assert.equal(status.dht, 'server', 'still a DHT server');
  assert.equal(testnet.bootstrap[0].stats().nat.relayServer.enabled, true);
});
