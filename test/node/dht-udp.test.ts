import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MccNode, generateIdentity } from '../../src/index.js';

async function network(count: number, t: { after: (fn: () => unknown) => void }): Promise<MccNode[]> {
  const first = await MccNode.create({ host: '127.0.0.1' });
  await first.start();
  const nodes = [first];
  t.after(() => Promise.all(nodes.map((node) => node.stop())));
  // Join a few at a time, each through the first node, as a real deployment would.
  for (let i = 1; i < count; i += 10) {
    const batch = await Promise.all(Array.from({ length: Math.min(10, count - i) }, () => MccNode.create({ host: '127.0.0.1', bootstrap: [first.address] })));
    nodes.push(...batch);
    await Promise.all(batch.map((node) => node.start()));
  }
  return nodes;
}

for (const size of [1, 2, 3, 5]) {
  test(`DHT over real UDP with ${size} node(s): immutable and mutable put/get from every node`, async (t) => {
    const nodes = await network(size, t);
    const value = new TextEncoder().encode(`hello from a ${size}-node mesh`);
    const { key } = await nodes[0].dht.put(value);
    for (const node of nodes) {
      const got = await node.dht.get(key);
      assert.ok(got, `node ${node.idHex.slice(0, 8)} found the value`);
      assert.deepEqual(Buffer.from(got.value), Buffer.from(value));
    }
    const author = generateIdentity();
    const salt = new TextEncoder().encode('profile');
    const v1 = await nodes[size - 1].dht.put(new TextEncoder().encode('v1'), { keyPair: author, salt, seq: 1 });
    await nodes[0].dht.put(new TextEncoder().encode('v2'), { keyPair: author, salt, seq: 2 });
    for (const node of nodes) {
      const got = await node.dht.get(v1.key);
      assert.equal(new TextDecoder().decode(got!.value), 'v2', 'the highest seq wins');
    }
  });
}

test('DHT over real UDP with 50 nodes in one process: every node finds every key', { timeout: 120_000 }, async (t) => {
  const nodes = await network(50, t);
  const keys: Uint8Array[] = [];
  for (let i = 0; i < 5; i++) {
    const { key, stored } = await nodes[i * 10].dht.put(new TextEncoder().encode(`value ${i}`));
    assert.ok(stored >= 1);
    keys.push(key);
  }
  let found = 0;
  for (const node of nodes) {
    for (const [i, key] of keys.entries()) {
      const got = await node.dht.get(key);
      if (got && new TextDecoder().decode(got.value) === `value ${i}`) found++;
    }
  }
  assert.equal(found, nodes.length * keys.length);
  const stats = nodes[25].stats();
  assert.equal(stats.droppedTotal - stats.dropped.unexpected, 0, JSON.stringify(stats.dropped));
});

test('DHT value size limits: 1000-byte immutable values and the largest signed ones travel; larger ones are typed errors', async (t) => {
  const nodes = await network(3, t);
  const immutable = new Uint8Array(1000).fill(1);
  const { key } = await nodes[0].dht.put(immutable);
  assert.equal((await nodes[2].dht.get(key))!.value.length, 1000);
  const author = generateIdentity();
  const salt = new Uint8Array(64).fill(2);
  let largest = 0;
  for (let size = 1000; size > 0; size -= 10) {
    try {
      await nodes[1].dht.put(new Uint8Array(size).fill(3), { keyPair: author, salt, seq: 1 });
      largest = size;
      break;
    } catch (error) {
      assert.equal((error as { code: string }).code, 'ERR_INVALID_ARGUMENT');
      assert.match((error as Error).message, /"value"/);
    }
  }
  assert.ok(largest >= 800, `largest signed value with a 64-byte salt: ${largest}`);
  const mutableKey = (await nodes[1].dht.put(new Uint8Array(largest).fill(4), { keyPair: author, salt, seq: 2 })).key;
  assert.equal((await nodes[0].dht.get(mutableKey))!.value.length, largest);
  await assert.rejects(nodes[0].dht.put(new Uint8Array(1001)), { code: 'ERR_INVALID_ARGUMENT' });
  assert.equal(
    nodes.reduce((sum, node) => sum + node.stats().rpc.failedReplies, 0),
    0,
  );
});

test('a node restarted with its routing-table file rejoins without any bootstrap node', async (t) => {
  const { mkdtempSync, rmSync, statSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'mcc-routing-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const nodes = await network(5, t);
  const { key } = await nodes[1].dht.put(new TextEncoder().encode('still here'));
  const file = join(dir, 'routing.json');
  const identity = join(dir, 'id.json');
  const first = await MccNode.create({ host: '127.0.0.1', identity, routingTable: file, bootstrap: [nodes[0].address] });
  await first.start();
  await first.stop();
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const again = await MccNode.create({ host: '127.0.0.1', identity, routingTable: file });
  await again.start();
  t.after(() => again.stop());
  assert.equal(again.idHex, first.idHex, 'same identity from its file');
  assert.ok(again.stats().peers >= 3, `rejoined through saved peers: ${again.stats().peers}`);
  assert.equal(new TextDecoder().decode((await again.dht.get(key))!.value), 'still here');
});
