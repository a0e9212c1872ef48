import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdleLruMap } from '../../src/util/idle-lru.js';

function map(capacity = 100, idleMs = 1000) {
  let now = 0;
  const dropped: string[] = [];
  const lru = new IdleLruMap<string, number>(capacity, { idleMs, now: () => now, onDrop: (key) => dropped.push(key) });
  return { lru, dropped, advance: (ms: number) => (now += ms) };
}

test('an entry unused for the idle time is dropped on a later write, one used in between is kept', () => {
  const { lru, dropped, advance } = map();
  lru.set('idle', 1);
  lru.set('busy', 2);
  advance(1000);
  lru.set('other', 3); // rotation: both move to the previous generation
  assert.equal(lru.size, 3);
  assert.equal(lru.get('busy'), 2); // used: back in the current generation
  advance(1000);
  lru.set('trigger', 4); // rotation: the previous generation ('idle') is dropped
  assert.deepEqual(dropped, ['idle']);
  assert.equal(lru.get('idle'), undefined);
  assert.equal(lru.get('busy'), 2);
  assert.equal(lru.peek('other'), 3, 'written one period ago: still kept');
});

test('after two idle periods without writes, both generations go at the next write', () => {
  const { lru, dropped, advance } = map();
  lru.set('a', 1);
  advance(500);
  lru.set('b', 2);
  advance(2500);
  lru.set('c', 3);
  assert.deepEqual(dropped.sort(), ['a', 'b']);
  assert.equal(lru.size, 1);
});

test('a get is a use and rotates when due; peek neither refreshes nor rotates', () => {
  const { lru, dropped, advance } = map();
  lru.set('a', 1);
  lru.set('b', 2);
  advance(900);
  assert.equal(lru.peek('a'), 1);
  assert.equal(lru.get('b'), 2);
  advance(200); // 1100: due
  assert.equal(lru.get('b'), 2, 'rotated, b moved back into the current generation');
  advance(1000); // 2100: due again; a was last used at 0
  assert.equal(lru.peek('a'), 1, 'peek does not rotate');
  assert.equal(lru.get('a'), undefined);
  assert.deepEqual(dropped, ['a']);
  advance(5000);
  assert.equal(lru.get('b'), undefined, 'idle for two periods and more: dropped on the next get');
  assert.deepEqual(dropped, ['a', 'b']);
});

test('capacity: the least recently used goes first, told to onDrop; set of a known key replaces in place', () => {
  const { lru, dropped, advance } = map(3);
  lru.set('a', 1);
  lru.set('b', 2);
  advance(1000);
  lru.set('c', 3); // rotation: a, b previous
  lru.get('a'); // a current again
  lru.set('d', 4); // full: evicts from the previous generation first (b)
  assert.deepEqual(dropped, ['b']);
  lru.set('d', 5);
  assert.equal(lru.size, 3);
  assert.equal(lru.get('d'), 5);
  lru.set('e', 6); // previous is empty now: the oldest of the current generation (c) goes
  assert.deepEqual(dropped, ['b', 'c']);
  assert.deepEqual([...lru.entries()].map(([k]) => k).sort(), ['a', 'd', 'e']);
});

test('delete and clear are not drops', () => {
  const { lru, dropped } = map();
  lru.set('a', 1);
  lru.set('b', 2);
  assert.ok(lru.delete('a'));
  assert.equal(lru.delete('a'), false);
  lru.clear();
  assert.equal(lru.size, 0);
  assert.deepEqual(dropped, []);
});

test('bad parameters are refused', () => {
  assert.throws(() => new IdleLruMap(0, { idleMs: 1, now: () => 0 }), RangeError);
  assert.throws(() => new IdleLruMap(1, { idleMs: 0, now: () => 0 }), RangeError);
});
