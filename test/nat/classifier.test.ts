import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NatClassifier, classify } from '../../src/nat/classifier.js';
import { virtualAddress } from '../../src/nat/relay-packet.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';
import { SimWorld, type NatKind } from './sim-world.js';

const a = (host: string, port: number) => ({ host, port });

describe('classify', () => {
  test('needs two observers', () => {
    assert.equal(classify([a('1.2.3.4', 5)], []), 'unknown');
    assert.equal(classify([], []), 'unknown');
  });
  test('public, consistent, random', () => {
    const local = [a('10.0.0.1', 4000)];
    assert.equal(classify([a('10.0.0.1', 4000), a('10.0.0.1', 4000)], local), 'public');
    assert.equal(classify([a('1.2.3.4', 5000), a('1.2.3.4', 5000)], local), 'consistent');
    assert.equal(classify([a('1.2.3.4', 5000), a('1.2.3.4', 5001)], local), 'random');
    assert.equal(classify([a('1.2.3.4', 5000), a('1.2.3.5', 5000)], local), 'random');
  });
});

describe('NatClassifier', () => {
  test('one report per observer; observers at one address count once; virtual addresses ignored', () => {
    const clock = new VirtualClock();
    const classifier = new NatClassifier({ clock, localAddresses: [a('192.168.0.2', 4000)] });
    classifier.observe('o1', a('10.0.0.1', 1), a('10.9.9.9', 4000));
    classifier.observe('o2', a('10.0.0.1', 1), a('10.9.9.9', 4000));
    assert.equal(classifier.state.mapping, 'unknown', 'same observer address');
    classifier.observe('o3', virtualAddress('0011223344556677'), a('10.9.9.9', 4001));
    assert.equal(classifier.state.observers, 1);
    classifier.observe('o3', a('10.0.0.2', 1), a('10.9.9.9', 4000));
    assert.equal(classifier.state.mapping, 'consistent');
    assert.deepEqual(classifier.state.publicAddress, a('10.9.9.9', 4000));
  });

  test('a changed observation is a network change: stale reports and reachability are dropped', () => {
    const clock = new VirtualClock();
    const classifier = new NatClassifier({ clock });
    const changes: string[] = [];
    classifier.on('network-change', (now, before) => changes.push(`${before.port}->${now.port}`));
    classifier.observe('o1', a('10.0.0.1', 1), a('10.9.9.9', 4000));
    classifier.observe('o2', a('10.0.0.2', 1), a('10.9.9.9', 4000));
    classifier.setReachable(false);
    assert.equal(classifier.state.mapping, 'consistent');
    classifier.observe('o1', a('10.0.0.1', 1), a('10.9.9.9', 4100));
    assert.deepEqual(changes, ['4000->4100']);
    assert.equal(classifier.state.mapping, 'unknown');
    assert.equal(classifier.state.reachable, undefined);
    assert.equal(classifier.state.observers, 1);
  });

  test('reports expire', () => {
    const clock = new VirtualClock();
    const classifier = new NatClassifier({ clock, observationTtlMs: 1000 });
    classifier.observe('o1', a('10.0.0.1', 1), a('10.9.9.9', 4000));
    clock.advance(2000);
    classifier.observe('o2', a('10.0.0.2', 1), a('10.9.9.9', 4000));
    assert.equal(classifier.state.mapping, 'unknown');
  });
});

describe('NAT checks on the simulated network', () => {
  const expected: Record<NatKind, { mapping: string; reachable: boolean }> = {
    none: { mapping: 'public', reachable: true },
    'full-cone': { mapping: 'consistent', reachable: true },
    'port-restricted': { mapping: 'consistent', reachable: false },
    symmetric: { mapping: 'random', reachable: false },
    'udp-blocked': { mapping: 'unknown', reachable: false },
  };
  for (const [kind, want] of Object.entries(expected) as Array<[NatKind, { mapping: string; reachable: boolean }]>) {
    test(`${kind}: mapping ${want.mapping}, reachable ${want.reachable}`, async () => {
      const world = new SimWorld(11);
      try {
        await world.addInfrastructure(4); // relay/helper, second observer, two possible third parties
        const node = await world.addNode({ kind });
        node.nat.start();
        const state = await world.settle(node.nat.monitor.check());
        assert.equal(state.mapping, want.mapping);
        assert.equal(state.reachable, want.reachable);
        if (kind !== 'none' && kind !== 'udp-blocked') assert.equal(state.publicAddress?.host, node.router!.publicHost);
        assert.equal(node.nat.dhtServer, want.reachable);
      } finally {
        await world.close();
      }
    });
  }

  test('re-checks after the NAT mapping changes (network change)', async () => {
    const world = new SimWorld(12);
    try {
      await world.addInfrastructure(4);
      const node = await world.addNode({ kind: 'port-restricted' });
      node.nat.start();
      await world.settle(node.nat.monitor.check());
      const before = node.nat.state.publicAddress!;
      let networkChanges = 0;
      node.nat.classifier.on('network-change', () => networkChanges++);
      // What a NAT reboot looks like from here: an observer reports a new public port.
      node.nat.classifier.observe(world.infrastructure[0].idHex, world.infrastructure[0].address, { host: before.host, port: before.port + 1 });
      assert.equal(networkChanges, 1);
      assert.equal(node.nat.state.reachable, undefined);
      await world.clock.run(5000); // the monitor re-checks after networkChangeDelayMs
      assert.equal(node.nat.state.mapping, 'consistent');
      assert.equal(node.nat.state.reachable, false);
    } finally {
      await world.close();
    }
  });
});
