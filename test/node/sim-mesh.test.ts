import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSimMesh } from '../helpers/sim-mesh.js';

test('100 full-stack nodes on the simulated network (virtual clock, 10 ms links): every node reads every key', { timeout: 180_000 }, async (t) => {
  const mesh = await createSimMesh({ seed: 7 });
  t.after(() => mesh.stop());
  for (let i = 0; i < 100; i++) await mesh.addNode();
  const keys: Uint8Array[] = [];
  for (let i = 0; i < 4; i++) {
    const result = await mesh.drive(mesh.nodes[i * 25].dht.put(new TextEncoder().encode(`value ${i}`)));
    assert.ok(result.stored >= 10, `stored on ${result.stored} nodes`);
    keys.push(result.key);
  }
  let found = 0;
  for (const node of mesh.nodes) {
    const results = await mesh.drive(Promise.all(keys.map((key) => node.dht.get(key))));
    results.forEach((got, i) => {
      if (got && new TextDecoder().decode(got.value) === `value ${i}`) found++;
    });
  }
  assert.equal(found, mesh.nodes.length * keys.length);
  // The routing tables filled up: a node knows far more peers than its bootstrap.
  assert.ok(mesh.nodes[50].stats().peers >= 20);
});
