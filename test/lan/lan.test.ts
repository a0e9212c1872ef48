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
  addresses: string[];
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

type SingleResult = { result: { foundMs: number; echo?: string; lan: LanStatsJson; host: string } };

/** Runs `single` on host A (first) and on host B (second, opening a stream to A's service unless `connect: false`); both results. */
async function acrossLink(
  t: { diagnostic(message: string): void },
  a: Netns,
  b: Netns,
  options: { envA?: NodeJS.ProcessEnv; envB?: NodeJS.ProcessEnv; connect?: boolean } = {},
): Promise<[SingleResult['result'], SingleResult['result']]> {
  const first = a.node(FIXTURE, ['single', 'svc-one', 'svc-two'], options.envA);
  await jsonLine(first, 'started');
  const second = b.node(FIXTURE, ['single', 'svc-two', 'svc-one', ...(options.connect === false ? [] : ['connect'])], options.envB);
  const [one, two] = await Promise.all([jsonLine<SingleResult>(first, 'result'), jsonLine<SingleResult>(second, 'result')]);
  first.stdin!.end('exit\n');
  second.stdin!.end('exit\n');
  t.diagnostic(`found: ${one.result.foundMs.toFixed(0)} ms after hearing the second host, ${two.result.foundMs.toFixed(0)} ms after its own start`);
  t.diagnostic(`announced from: ${one.result.lan.addresses.join(', ')} / ${two.result.lan.addresses.join(', ')}`);
  if (options.connect !== false) assert.equal(two.result.echo, 'hello svc-one');
  return [one.result, two.result];
}

test('an IPv6-only two-host LAN (veth with ULA addresses, no IPv4 anywhere): no options, found and connected across the link', { skip }, async (t) => {
  const hostA = new Netns({ multicast: false });
  t.after(() => hostA.delete());
  const hostB = new Netns({ multicast: false });
  t.after(() => hostB.delete());
  linkNamespaces(hostA, hostB, { ipv4: false, ula: true });
  const results = await acrossLink(t, hostA, hostB);
  results.forEach(({ lan, host }, i) => {
    assert.equal(host, '::');
    assert.deepEqual(lan.addresses, [`fd77::${i + 1}`], 'the veth over IPv6, from the ULA address (preferred to link-local)');
    assert.ok(lan.heard >= 1, JSON.stringify(lan));
  });
});

test("a link-local-only two-host LAN (no IPv4, no ULA): no options, each finds the other's service across the link", { skip }, async (t) => {
  const hostA = new Netns({ multicast: false });
  t.after(() => hostA.delete());
  const hostB = new Netns({ multicast: false });
  t.after(() => hostB.delete());
  linkNamespaces(hostA, hostB, { ipv4: false });
  // Lookups only: providers advertise no link-local address (src/util/interfaces.ts), so a
  // stream has no address to go to on such a LAN (docs/lan.md).
  const results = await acrossLink(t, hostA, hostB, { connect: false });
  for (const { lan } of results) {
    assert.equal(lan.addresses.length, 1);
    assert.match(lan.addresses[0], /^fe80::[0-9a-f:]+%mcc[ab]/, 'link-local, with the zone the peer needs');
    assert.ok(lan.heard >= 1, JSON.stringify(lan));
  }
});

test('a mixed LAN (IPv4 + ULA on the veth): a dual-stack node and a node bound to its IPv6 address only find each other', { skip }, async (t) => {
  const hostA = new Netns({ multicast: false });
  t.after(() => hostA.delete());
  const hostB = new Netns({ multicast: false });
  t.after(() => hostB.delete());
  linkNamespaces(hostA, hostB, { ula: true });
  const [dual, v6only] = await acrossLink(t, hostA, hostB, { envB: { MCC_TEST_HOST: 'fd77::2' } });
  assert.deepEqual([...dual.lan.addresses].sort(), ['10.77.0.1', 'fd77::1'], 'dual stack announces on both families, IPv6 from the ULA address');
  assert.deepEqual(v6only.lan.addresses, ['fd77::2'], 'bound to fd77::2: IPv6 only, from that address');
  assert.ok(dual.lan.heard >= 1 && v6only.lan.heard >= 1);
});

test('in a namespace whose lo has multicast on: a node on ::1 sends nothing, a node on 127.0.0.1 no IPv6', { skip }, async (t) => {
  const ns = new Netns();
  t.after(() => ns.delete());
  type Result = { result: { lan: LanStatsJson; host: string } };
  const [v6, v4] = await Promise.all([
    jsonLine<Result>(ns.node(FIXTURE, ['idle'], { MCC_TEST_HOST: '::1' }), 'result'),
    jsonLine<Result>(ns.node(FIXTURE, ['idle'], { MCC_TEST_HOST: '127.0.0.1' }), 'result'),
  ]);
  assert.equal(v6.result.host, '::1');
  assert.deepEqual(v6.result.lan.interfaces, [], 'IPv6 multicast never uses loopback');
  assert.equal(v6.result.lan.sent, 0);
  assert.deepEqual(v4.result.lan.addresses, ['127.0.0.1']);
  assert.ok(v4.result.lan.heard === 0 && v4.result.lan.sent >= 1);
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

test('over IPv6 too, forged and malformed announcements are dropped and counted the same way (veth, link-local)', { skip }, async (t) => {
  const hostA = new Netns({ multicast: false });
  t.after(() => hostA.delete());
  const hostB = new Netns({ multicast: false });
  t.after(() => hostB.delete());
  const [dev] = linkNamespaces(hostA, hostB, { ipv4: false });
  const child = hostA.node(FIXTURE, ['quiet'], { MCC_TEST_FORGE_IF: dev });
  const { result } = await jsonLine<{ result: { lan: LanStatsJson } }>(child, 'result');
  child.stdin!.end('exit\n');
  const { lan } = result;
  assert.match(lan.addresses.join(), /^fe80::/);
  assert.equal(lan.received - lan.dropped['self'], 5, 'five sent, plus its own announcement looped back');
  assert.equal(lan.dropped['malformed'], 2);
  assert.equal(lan.dropped['unauthenticated'], 1);
  assert.equal(lan.dropped['stale'], 1);
  assert.equal(lan.dropped['foreign'], 0, 'a link-local source on the receiving link is on-link');
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
  // And on a host with a veth (IPv4 and IPv6 link-local): the per-interface IPv6 sockets too.
  const hostA = new Netns({ multicast: false });
  t.after(() => hostA.delete());
  const hostB = new Netns({ multicast: false });
  t.after(() => hostB.delete());
  linkNamespaces(hostA, hostB);
  for (const child of [ns.node(FIXTURE, ['race']), hostA.node(FIXTURE, ['race'])]) {
    const { result } = await jsonLine<{ result: { outcomes: string[] } }>(child, 'result');
    child.stdin!.end('exit\n');
    assert.equal(await exitCode(child), 0, 'nothing left open');
    assert.equal(result.outcomes.length, 7);
    for (const outcome of result.outcomes) assert.ok(outcome === 'started' || outcome === 'ERR_STOPPED', outcome);
  }
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
