/**
 * LAN discovery end to end, inside network namespaces of the test's own (never on the host's
 * interfaces): nodes created with no options at all find each other's services, in one
 * process and in two; forged and malformed announcements are dropped and counted; a node with
 * `lan: false`, or on a loopback without multicast, sends nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Netns, exitCode, jsonLine, linkNamespaces, netnsSkip } from './netns.js';
import { MccNode } from '../../src/index.js';
import { lanInterfaces } from '../../src/lan/interfaces.js';

const FIXTURE = 'test/lan/fixtures/lan-node.ts';
const skip = netnsSkip();

interface LanStatsJson {
  active: boolean;
  interfaces: string[];
  sent: number;
  received: number;
  heard: number;
  joins: number;
  dropped: Record<string, number>;
}

test('two nodes in one process, no options at all, find each other within 2 s (network namespace)', { skip }, async (t) => {
  const ns = new Netns();
  t.after(() => ns.delete());
  const child = ns.node(FIXTURE, ['pair']);
  const { result } = await jsonLine<{ result: { bFoundA: number; aFoundB: number; echo: string; lan: LanStatsJson[]; hosts: string[] } }>(child, 'result');
  child.stdin!.end('exit\n');
  assert.equal(await exitCode(child), 0, 'the process ends by itself after stop(): nothing left open');
  t.diagnostic(`found after start: b->a ${result.bFoundA.toFixed(0)} ms, a->b ${result.aFoundB.toFixed(0)} ms (both nodes started in that time)`);
  assert.equal(result.echo, 'hello svc-a');
  assert.deepEqual(result.hosts, ['::', '::'], 'wildcard bind: no host given');
  for (const lan of result.lan) {
    assert.deepEqual(lan.interfaces, ['lo']);
    assert.ok(lan.sent >= 1 && lan.heard >= 1, JSON.stringify(lan));
  }
  assert.ok(result.lan[0].joins + result.lan[1].joins >= 1, 'one node joined through a LAN peer');
});

test('two nodes in two processes, no options at all, find each other within 2 s (network namespace)', { skip }, async (t) => {
  const ns = new Netns();
  t.after(() => ns.delete());
  const first = ns.node(FIXTURE, ['single', 'svc-one', 'svc-two']);
  await jsonLine(first, 'started');
  const second = ns.node(FIXTURE, ['single', 'svc-two', 'svc-one', 'connect']);
  type Result = { result: { foundMs: number; echo?: string; lan: LanStatsJson } };
  const [one, two] = await Promise.all([jsonLine<Result>(first, 'result'), jsonLine<Result>(second, 'result')]);
  first.stdin!.end('exit\n');
  second.stdin!.end('exit\n');
  t.diagnostic(`found: ${one.result.foundMs.toFixed(0)} ms after hearing the second process, ${two.result.foundMs.toFixed(0)} ms after its own start`);
  assert.equal(two.result.echo, 'hello svc-one');
  assert.ok(one.result.lan.heard >= 1 && two.result.lan.heard >= 1);
});

test('a two-host LAN (two namespaces, one veth link, loopbacks without multicast): no options, found across the link', { skip }, async (t) => {
  const hostA = new Netns({ multicast: false });
  t.after(() => hostA.delete());
  const hostB = new Netns({ multicast: false });
  t.after(() => hostB.delete());
  linkNamespaces(hostA, hostB);
  const first = hostA.node(FIXTURE, ['single', 'svc-one', 'svc-two']);
  await jsonLine(first, 'started');
  const second = hostB.node(FIXTURE, ['single', 'svc-two', 'svc-one', 'connect']);
  type Result = { result: { foundMs: number; echo?: string; lan: LanStatsJson } };
  const [one, two] = await Promise.all([jsonLine<Result>(first, 'result'), jsonLine<Result>(second, 'result')]);
  first.stdin!.end('exit\n');
  second.stdin!.end('exit\n');
  t.diagnostic(`found: ${one.result.foundMs.toFixed(0)} ms after hearing the second host, ${two.result.foundMs.toFixed(0)} ms after its own start`);
  assert.equal(two.result.echo, 'hello svc-one');
  for (const { lan } of [one.result, two.result]) {
    assert.equal(lan.interfaces.length, 1, 'the veth only: lo has no multicast');
    assert.match(lan.interfaces[0], /^mcc[ab]/);
    assert.ok(lan.heard >= 1);
  }
});

test('forged and malformed announcements are dropped and counted; the node keeps running (network namespace)', { skip }, async (t) => {
  const ns = new Netns();
  t.after(() => ns.delete());
  const child = ns.node(FIXTURE, ['quiet']);
  const { result } = await jsonLine<{ result: { lan: LanStatsJson } }>(child, 'result');
  child.stdin!.end('exit\n');
  const { lan } = result;
  assert.equal(lan.received - lan.dropped['self'], 5, 'five sent, plus its own announcement looped back');
  assert.equal(lan.dropped['malformed'], 2, 'the 3-byte datagram and the zero packet');
  assert.equal(lan.dropped['unauthenticated'], 1, 'the forged signature');
  assert.equal(lan.dropped['stale'], 1, 'the repeated announcement');
  assert.equal(lan.heard, 1);
});

test('a loopback without multicast (as on the host) and lan: false send nothing (network namespace)', { skip }, async (t) => {
  const quietLo = new Netns({ multicast: false });
  t.after(() => quietLo.delete());
  const a = quietLo.node(FIXTURE, ['quiet']);
  const withMulticast = new Netns();
  t.after(() => withMulticast.delete());
  const b = withMulticast.node(FIXTURE, ['quiet', 'off']);
  type Result = { result: { lan: LanStatsJson } };
  const [onQuietLo, off] = await Promise.all([jsonLine<Result>(a, 'result'), jsonLine<Result>(b, 'result')]);
  a.stdin!.end('exit\n');
  b.stdin!.end('exit\n');
  for (const { lan } of [onQuietLo.result, off.result]) {
    assert.equal(lan.active, false);
    assert.deepEqual(lan.interfaces, []);
    assert.equal(lan.sent, 0);
    assert.equal(lan.received, 0);
  }
});

test('stop() during start(), LAN sockets half open included: start() settles and the process exits (network namespace)', { skip }, async (t) => {
  const ns = new Netns();
  t.after(() => ns.delete());
  const child = ns.node(FIXTURE, ['race']);
  const { result } = await jsonLine<{ result: { outcomes: string[] } }>(child, 'result');
  child.stdin!.end('exit\n');
  assert.equal(await exitCode(child), 0, 'nothing left open');
  assert.equal(result.outcomes.length, 7);
  for (const outcome of result.outcomes) assert.ok(outcome === 'started' || outcome === 'ERR_STOPPED', outcome);
});

test('on the host, a node bound to 127.0.0.1 announces on no interface but a multicast-enabled loopback', async () => {
  const node = await MccNode.create({ host: '127.0.0.1', lan: true }); // lan: true overrides MCC_LAN=off (npm test): the interface rule is under test
  await node.start();
  try {
    const lan = node.stats().lan;
    const expected = lanInterfaces('127.0.0.1');
    assert.ok(
      expected.every((entry) => entry.loopback),
      'never a real interface for a loopback bind',
    );
    assert.deepEqual(
      lan.interfaces,
      expected.map((entry) => entry.name),
    );
    if (expected.length === 0) assert.equal(lan.sent, 0);
  } finally {
    await node.stop();
  }
});
