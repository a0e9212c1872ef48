import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeadlineQueue } from '../../src/session/deadline-queue.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';

interface Item {
  name: string;
  due: number;
}

const item = (name: string): Item => ({ name, due: -1 });

test('items fire in due order, once, on one timer; cancelled and rescheduled ones do not fire early', () => {
  const clock = new VirtualClock();
  const fired: Array<[string, number]> = [];
  const queue = new DeadlineQueue<Item>(clock, (it) => fired.push([it.name, clock.now()]));
  const a = item('a');
  const b = item('b');
  const c = item('c');
  const d = item('d');
  queue.schedule(c, 300);
  queue.schedule(a, 100);
  queue.schedule(b, 200);
  queue.schedule(d, 150);
  assert.equal(queue.size, 4);
  queue.cancel(d);
  queue.schedule(b, 400); // rescheduled later: the 200 slot is stale
  assert.equal(queue.size, 3);
  clock.advance(1000);
  assert.deepEqual(fired, [
    ['a', 100],
    ['c', 300],
    ['b', 400],
  ]);
  assert.equal(queue.size, 0);
  assert.equal(d.due, -1);
});

test('a handler may schedule its item again; close stops everything', () => {
  const clock = new VirtualClock();
  let count = 0;
  const queue = new DeadlineQueue<Item>(clock, (it) => {
    if (++count < 3) queue.schedule(it, clock.now() + 50);
  });
  const a = item('a');
  queue.schedule(a, 10);
  clock.advance(500);
  assert.equal(count, 3);
  const b = item('b');
  queue.schedule(b, clock.now() + 10);
  queue.close();
  clock.advance(500);
  assert.equal(count, 3);
  assert.equal(b.due, -1);
});

test('many cancelled items are compacted away and the survivors still fire in order', () => {
  const clock = new VirtualClock();
  const fired: number[] = [];
  const queue = new DeadlineQueue<Item & { n: number }>(clock, (it) => fired.push(it.n));
  const kept: number[] = [];
  for (let n = 0; n < 5000; n++) {
    const it = { name: '', due: -1, n };
    queue.schedule(it, 1000 + ((n * 7919) % 5000));
    if (n % 97 === 0) kept.push(n);
    else queue.cancel(it);
  }
  assert.equal(queue.size, kept.length);
  clock.advance(10_000);
  const expected = [...kept].sort((x, y) => ((x * 7919) % 5000) - ((y * 7919) % 5000));
  assert.deepEqual(fired, expected);
});

test('a handler that throws does not strand the other items', () => {
  const clock = new VirtualClock();
  const fired: string[] = [];
  const queue = new DeadlineQueue<Item>(clock, (it) => {
    fired.push(it.name);
    if (it.name === 'bad') throw new Error('handler bug');
  });
  queue.schedule(item('bad'), 10);
  queue.schedule(item('later'), 20);
  assert.throws(() => clock.advance(15));
  clock.advance(100);
  assert.deepEqual(fired, ['bad', 'later']);
});
