/**
 * The holder's subscription table on its own (src/discovery/subscriptions.ts), on a virtual
 * clock with real signed records: every bound refuses with `limit`, leases are clamped and
 * end, and what is pushed (changes, withdrawals, expiries; not republishes) and what is not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/util/virtual-clock.js';
import { nodeCryptoSuite } from '../../src/crypto/index.js';
import { generateIdentity } from '../../src/crypto/identity.js';
import { signRecord } from '../../src/kademlia/record.js';
import type { Contact, SignedRecord } from '../../src/kademlia/types.js';
import { SubscriptionTable, DEFAULT_SUBSCRIPTION_LIMITS, type SubscriptionLimits } from '../../src/discovery/subscriptions.js';

const EPOCH = Date.UTC(2026, 0, 1);

function contact(n: number): Contact {
  const id = new Uint8Array(32);
  id[0] = n >> 8;
  id[1] = n & 0xff;
  return { id, address: { host: '127.0.0.1', port: 10_000 + n } };
}

function key(n: number): Uint8Array {
  return new Uint8Array(32).fill(n);
}

interface Pushed {
  to: string;
  seq: number;
  withdrawn: boolean;
  expired: boolean;
}

function setup(limits: Partial<SubscriptionLimits> = {}, options: { closeTo?: boolean; answer?: (to: Contact) => Promise<boolean> } = {}) {
  const clock = new VirtualClock(0);
  const wallClock = () => EPOCH + clock.now();
  const held = new Map<string, SignedRecord[]>();
  const pushed: Pushed[] = [];
  const table = new SubscriptionTable(
    {
      clock,
      wallClock,
      held: (k) => held.get(Buffer.from(k).toString('hex')) ?? [],
      closeTo: () => options.closeTo ?? true,
      push: (to, _key, record, expired) => {
        pushed.push({ to: Buffer.from(to.id).toString('hex').slice(0, 4), seq: record.seq, withdrawn: record.withdrawn === true, expired });
        return options.answer ? options.answer(to) : Promise.resolve(true);
      },
    },
    limits,
  );
  return { clock, wallClock, held, pushed, table };
}

const author = generateIdentity(nodeCryptoSuite);

function record(k: Uint8Array, seq: number, expiresAt: number, value = [1], withdrawn = false): SignedRecord {
  return signRecord(nodeCryptoSuite, author, { key: k, seq, expiresAt, value: new Uint8Array(withdrawn ? [] : value), ...(withdrawn ? { withdrawn } : {}) });
}

test('subscription table: per-key, per-source and total bounds refuse with limit; leases are clamped', () => {
  const { table } = setup({ maxPerKey: 2, maxPerSource: 2, maxTotal: 5 });
  assert.deepEqual(table.subscribe(contact(1), key(1), 60_000, true), { ok: true, leaseMs: 60_000, renewed: false });
  assert.equal(table.subscribe(contact(2), key(1), 60_000, true).ok, true);
  assert.deepEqual(table.subscribe(contact(3), key(1), 60_000, true), { ok: false, reason: 'limit' }, 'third subscriber of one key');
  assert.equal(table.subscribe(contact(1), key(2), 60_000, true).ok, true);
  assert.deepEqual(table.subscribe(contact(1), key(3), 60_000, true), { ok: false, reason: 'limit' }, 'third key of one subscriber');
  assert.equal(table.subscribe(contact(4), key(4), 60_000, true).ok, true);
  assert.equal(table.subscribe(contact(5), key(5), 60_000, true).ok, true);
  assert.deepEqual(table.subscribe(contact(6), key(6), 60_000, true), { ok: false, reason: 'limit' }, 'total');
  // Renewing is not a new subscription: allowed at every bound.
  assert.deepEqual(table.subscribe(contact(1), key(1), 60_000, true), { ok: true, leaseMs: 60_000, renewed: true });
  // Leases are clamped to [min, max].
  assert.equal((table.subscribe(contact(2), key(1), 1, true) as { leaseMs: number }).leaseMs, DEFAULT_SUBSCRIPTION_LIMITS.minLeaseMs);
  assert.equal((table.subscribe(contact(2), key(1), 10 * 3600_000, true) as { leaseMs: number }).leaseMs, DEFAULT_SUBSCRIPTION_LIMITS.maxLeaseMs);
  const stats = table.stats();
  assert.equal(stats.subscriptions, 5);
  assert.equal(stats.refused.limit, 3);
  // Cancelling frees the slot.
  assert.deepEqual(table.subscribe(contact(5), key(5), 0, true), { ok: true, leaseMs: 0, renewed: false });
  assert.equal(table.subscribe(contact(6), key(6), 60_000, true).ok, true);
  table.stop();
});

test('subscription table: unvalidated addresses, non-holders and bad keys are refused', () => {
  const { table } = setup({}, { closeTo: false });
  assert.deepEqual(table.subscribe(contact(1), key(1), 60_000, false), { ok: false, reason: 'unvalidated' });
  assert.deepEqual(table.subscribe(contact(1), key(1), 60_000, true), { ok: false, reason: 'not-holder' });
  assert.deepEqual(table.subscribe(contact(1), new Uint8Array(7), 60_000, true), { ok: false, reason: 'invalid' });
  assert.deepEqual(table.subscribe(contact(1), key(1), Number.NaN, true), { ok: false, reason: 'invalid' });
  assert.deepEqual(table.stats().refused, { limit: 0, 'not-holder': 1, invalid: 2, unvalidated: 1 });
  table.stop();
});

test('subscription table: leases end; a subscription past its lease is new again (renewed: false) and gets no pushes', () => {
  const { table, clock, pushed, wallClock } = setup();
  table.subscribe(contact(1), key(1), 20_000, true);
  clock.advance(19_000);
  assert.equal((table.subscribe(contact(1), key(1), 20_000, true) as { renewed: boolean }).renewed, true);
  clock.advance(20_001);
  assert.equal(table.stats().subscriptions, 0, 'the lease timer dropped it');
  table.changed(record(key(1), 1, wallClock() + 60_000));
  assert.equal(pushed.length, 0);
  assert.equal((table.subscribe(contact(1), key(1), 20_000, true) as { renewed: boolean }).renewed, false);
  table.stop();
  assert.equal(clock.pending, 0, 'stop() leaves no timer');
});

test('subscription table: changes, withdrawals and expiries are pushed; republishes are not; a failed push drops the subscriber', async () => {
  let refuse = false;
  const { table, clock, pushed, held, wallClock } = setup({}, { answer: () => Promise.resolve(!refuse) });
  const k = key(9);
  const first = record(k, 1, wallClock() + 30_000);
  held.set(Buffer.from(k).toString('hex'), [first]);
  table.subscribe(contact(1), k, 120_000, true);
  table.subscribe(contact(2), k, 120_000, true);
  table.changed(record(k, 2, wallClock() + 60_000)); // republish: same value, later expiry
  assert.equal(pushed.length, 0, 'a republish is not pushed');
  table.changed(record(k, 3, wallClock() + 60_000, [2])); // new content
  assert.deepEqual(
    pushed.map((p) => [p.to, p.seq, p.expired]),
    [
      ['0001', 3, false],
      ['0002', 3, false],
    ],
  );
  pushed.length = 0;
  // The republished expiry is what counts: nothing expires at the first record's 30 s.
  clock.advance(31_000);
  assert.equal(pushed.length, 0);
  clock.advance(30_000); // past 60 s: the last record expired here
  assert.deepEqual(
    pushed.map((p) => [p.seq, p.expired]),
    [
      [3, true],
      [3, true],
    ],
  );
  pushed.length = 0;
  // A withdrawal is pushed; a subscriber refusing the push is dropped.
  refuse = true;
  table.changed(record(k, 4, wallClock() + 60_000, [], true));
  assert.equal(pushed.length, 2);
  assert.ok(pushed.every((p) => p.withdrawn));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(table.stats().subscriptions, 0);
  assert.equal(table.stats().pushFailures, 2);
  table.stop();
  assert.equal(clock.pending, 0);
});

test('subscription table: pushes beyond maxInFlight wait for a slot', async () => {
  const answers: Array<(ok: boolean) => void> = [];
  const { table, pushed, wallClock } = setup({ maxInFlight: 2 }, { answer: () => new Promise<boolean>((resolve) => answers.push(resolve)) });
  const k = key(3);
  for (let n = 1; n <= 5; n++) table.subscribe(contact(n), k, 60_000, true);
  table.changed(record(k, 1, wallClock() + 60_000));
  assert.equal(pushed.length, 2, 'two in flight');
  answers.shift()!(true);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(pushed.length, 3, 'one more after a slot freed');
  while (answers.length > 0) {
    answers.shift()!(true);
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal(pushed.length, 5);
  assert.equal(table.stats().pushes, 5);
  table.stop();
});
