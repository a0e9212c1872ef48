import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MccNode, type WatchEvent } from '../../src/index.js';

test('discovery over real UDP with three nodes, through the public API only', async (t) => {
  const a = await MccNode.create({ host: '127.0.0.1' });
  await a.start();
  const b = await MccNode.create({ host: '127.0.0.1', bootstrap: [a.address] });
  const c = await MccNode.create({ host: '127.0.0.1', bootstrap: [a.address] });
  await Promise.all([b.start(), c.start()]);
  t.after(() => Promise.all([a.stop(), b.stop(), c.stop()]));

  // Bad names and options are typed errors that name the argument.
  await assert.rejects(a.register('', { port: 8080 }), { code: 'ERR_INVALID_ARGUMENT' });
  await assert.rejects(a.register('web', { port: 0 }), (error: Error) => /"port"/.test(error.message));
  await assert.rejects(a.register('web', {}), { code: 'ERR_INVALID_ARGUMENT' });
  await assert.rejects(a.lookup('x'.repeat(300)), (error: Error) => /"name"/.test(error.message));

  const regA = await a.register('web', { port: 8080, metadata: { zone: 'a' } });
  const regB = await b.register('web', { handler: (stream) => stream.end(), metadata: { zone: 'b' } });
  const found = await c.lookup('web', { fresh: true });
  assert.deepEqual(found.map((p) => p.id).sort(), [a.idHex, b.idHex].sort());
  const fromA = found.find((p) => p.id === a.idHex)!;
  assert.deepEqual(fromA.metadata, { zone: 'a' });
  assert.deepEqual(fromA.addresses[0], a.address);

  // Watch sees an update and a removal, in order.
  const controller = new AbortController();
  const events: WatchEvent[] = [];
  const has = (type: WatchEvent['type'], id: string): boolean => events.some((e) => e.type === type && e.provider.id === id);
  // Resolves once the events seen satisfy `predicate` (checked after each event): no guessed sleeps.
  let onEvent = (): void => {};
  const until = (predicate: () => boolean): Promise<void> =>
    predicate() ? Promise.resolve() : new Promise((resolve) => (onEvent = () => predicate() && resolve()));
  const watching = (async () => {
    for await (const event of c.watch('web', { signal: controller.signal, intervalMs: 100 })) {
      events.push(event);
      onEvent();
      if (events.some((e) => e.type === 'removed')) controller.abort();
    }
  })();
  await until(() => has('added', a.idHex) && has('added', b.idHex)); // the first poll reported both
  await regB.update({ zone: 'b2' });
  await until(() => has('updated', b.idHex));
  await regA.unregister();
  await watching;
  const kinds = events.map((e) => `${e.type}:${e.provider.id.slice(0, 6)}`);
  const updated = kinds.indexOf(`updated:${b.idHex.slice(0, 6)}`);
  const removed = kinds.indexOf(`removed:${a.idHex.slice(0, 6)}`);
  assert.ok(updated >= 0 && removed > updated, kinds.join(','));

  // The withdrawal is seen at once, not at expiry.
  const after = await c.lookup('web', { fresh: true });
  assert.deepEqual(
    after.map((p) => p.id),
    [b.idHex],
  );
  assert.equal(await b.unregister('web'), true);
  assert.equal(await b.unregister('web'), false);
  assert.deepEqual(await a.lookup('web', { fresh: true }), []);
});
