/**
 * The Kademlia wire adapter over real sealed sessions on loopback UDP (two and five
 * `MccNode`s): FIND_VALUE answers fit one datagram, a 1,000-record set is paged after the
 * lookup and read completely, and many concurrent reads on one caller signal leave no
 * MaxListenersExceededWarning behind.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MccNode, generateIdentity } from '../../src/index.js';
import { nodeCryptoSuite } from '../../src/crypto/index.js';
import { signRecord } from '../../src/kademlia/record.js';
import type { SignedRecord } from '../../src/kademlia/types.js';

async function mesh(count: number, t: { after: (fn: () => unknown) => void }): Promise<MccNode[]> {
  const first = await MccNode.create({ host: '127.0.0.1' });
  await first.start();
  const nodes = [first];
  t.after(() => Promise.all(nodes.map((node) => node.stop())));
  const rest = await Promise.all(Array.from({ length: count - 1 }, () => MccNode.create({ host: '127.0.0.1', bootstrap: [first.address] })));
  nodes.push(...rest);
  await Promise.all(rest.map((node) => node.start()));
  return nodes;
}

function records(key: Uint8Array, count: number, valueBytes: number): SignedRecord[] {
  const expiresAt = Date.now() + 600_000;
  return Array.from({ length: count }, (_, i) =>
    signRecord(nodeCryptoSuite, generateIdentity(nodeCryptoSuite), { key, seq: 1, expiresAt, value: new Uint8Array(valueBytes).fill(i & 255) }),
  );
}

function watchWarnings(t: { after: (fn: () => unknown) => void }): string[] {
  const seen: string[] = [];
  const onWarning = (warning: Error) => seen.push(`${warning.name}: ${warning.message}`);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  return seen;
}

test('a 1,000-record set is read completely over real sessions, paged after the lookup', { timeout: 60_000 }, async (t) => {
  const warnings = watchWarnings(t);
  const [holder, reader] = await mesh(2, t);
  const key = new Uint8Array(32).fill(7);
  const set = records(key, 1000, 120);
  for (const record of set) assert.ok(holder.kad.store.put(key, record, holder.idHex).ok);

  const found = await reader.kad.getRecords(key);
  assert.equal(found.length, 1000);
  const authors = new Set(found.map((r) => Buffer.from(r.author).toString('hex')));
  for (const record of set) assert.ok(authors.has(Buffer.from(record.author).toString('hex')));
  // Every answer was one datagram: nothing was dropped as oversized or undecodable on either side.
  for (const node of [holder, reader]) {
    const stats = node.stats();
    assert.equal(stats.droppedTotal - stats.dropped.unexpected, 0, JSON.stringify(stats.dropped));
  }
  assert.deepEqual(
    warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')),
    [],
  );
});

test('records of the largest size that fits a datagram page too', { timeout: 30_000 }, async (t) => {
  const [holder, reader] = await mesh(2, t);
  const key = new Uint8Array(32).fill(9);
  const set = records(key, 40, 900);
  for (const record of set) assert.ok(holder.kad.store.put(key, record, holder.idHex).ok);
  const found = await reader.kad.getRecords(key);
  assert.equal(found.length, 40);
});

test('concurrent reads and puts on one caller signal add no listener warnings', { timeout: 60_000 }, async (t) => {
  const warnings = watchWarnings(t);
  const nodes = await mesh(5, t);
  const key = new Uint8Array(32).fill(11);
  const set = records(key, 200, 100);
  for (const node of nodes.slice(0, 3)) for (const record of set) node.kad.store.put(key, record, node.idHex);
  const controller = new AbortController();
  const reader = nodes[4];
  const reads = Array.from({ length: 12 }, () => reader.kad.getRecords(key, { signal: controller.signal }));
  const puts = Array.from({ length: 10 }, (_, i) => reader.dht.put(new TextEncoder().encode(`value ${i}`), { signal: controller.signal }));
  const results = await Promise.all(reads);
  await Promise.all(puts);
  for (const found of results) assert.equal(found.length, 200);
  // Let any deferred warning print before checking.
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')),
    [],
  );
});
