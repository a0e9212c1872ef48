import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { deadline, linkedController } from '../../src/kademlia/deadline.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';

describe('linked controllers and deadlines', () => {
  it('hang one listener on a parent whatever the number of children, and drop it with the last', () => {
    const parent = new AbortController();
    const children = Array.from({ length: 100 }, () => linkedController(parent.signal));
    assert.equal(getEventListeners(parent.signal, 'abort').length, 1);
    for (const child of children.slice(0, 99)) child.dispose();
    assert.equal(getEventListeners(parent.signal, 'abort').length, 1);
    children[99].dispose();
    assert.equal(getEventListeners(parent.signal, 'abort').length, 0);
  });

  it('abort every live child with the parent, with its reason', () => {
    const parent = new AbortController();
    const live = Array.from({ length: 20 }, () => linkedController(parent.signal));
    const released = linkedController(parent.signal);
    released.dispose();
    parent.abort('stop');
    for (const child of live) assert.equal(child.controller.signal.reason, 'stop');
    assert.equal(released.controller.signal.aborted, false);
    assert.equal(linkedController(parent.signal).controller.signal.aborted, true);
  });

  it('time out on the injected clock, and not after dispose', () => {
    const clock = new VirtualClock();
    const fired = deadline(clock, 100);
    const disposed = deadline(clock, 100);
    disposed.dispose();
    clock.advance(99);
    assert.equal(fired.signal.aborted, false);
    clock.advance(1);
    assert.equal(fired.signal.aborted, true);
    assert.equal(disposed.signal.aborted, false);
  });
});
