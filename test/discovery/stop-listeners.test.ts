import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { MccNode } from '../../src/index.js';

test("stop() releases the abort listeners register() put on the caller's signals (unregister and stop alike)", async () => {
  const node = await MccNode.create({ host: '127.0.0.1' });
  await node.start();
  const signal = new AbortController().signal;
  await node.register('web', { port: 8080, signal });
  assert.equal(getEventListeners(signal, 'abort').length, 1, 'register() listens for the abort');
  await node.unregister('web');
  assert.equal(getEventListeners(signal, 'abort').length, 0, 'unregister() releases it');
  await node.register('web', { port: 8080, signal });
  await node.register('api', { port: 8081, signal });
  assert.equal(getEventListeners(signal, 'abort').length, 2);
  await node.stop();
  assert.equal(getEventListeners(signal, 'abort').length, 0, 'stop() releases them');
});
