import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NatClassifier, classify } from '../../src/nat/classifier.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';

const a = (host: string, port: number) => ({ host, port });

test('IPv4 and IPv6 reports are classified apart: a dual-stack host behind NAT44 with public IPv6 is not a random-port NAT', () => {
  const local = [a('192.168.1.2', 4100), a('2001:db8:5::2', 4100)];
  const mixed = [a('198.51.100.7', 61000), a('198.51.100.7', 61000), a('2001:db8:5::2', 4100), a('2001:db8:5::2', 4100)];
  assert.equal(classify(mixed, local), 'consistent', 'the IPv4 verdict wins once known');
  assert.equal(classify([a('198.51.100.7', 61000), a('2001:db8:5::2', 4100), a('2001:db8:5::2', 4100)], local), 'public', 'IPv6 decides while IPv4 is unknown');
  assert.equal(classify([a('2001:db8:5::2', 4100), a('2001:db8:5::2', 4100)], local), 'public');
  assert.equal(classify([a('198.51.100.7', 61000), a('198.51.100.7', 61001), a('2001:db8:5::2', 4100), a('2001:db8:5::2', 4100)], local), 'random');
});

test('a dual-stack observer seeing us over the other family is no network change; the public address is the IPv4 one', () => {
  const clock = new VirtualClock();
  const classifier = new NatClassifier({ clock, localAddresses: [a('192.168.1.2', 4100), a('2001:db8:5::2', 4100)] });
  let changes = 0;
  classifier.on('network-change', () => changes++);
  classifier.observe('o1', a('203.0.113.1', 4100), a('198.51.100.7', 61000));
  classifier.observe('o1', a('2001:db8:9::1', 4100), a('2001:db8:5::2', 4100));
  classifier.observe('o2', a('203.0.113.2', 4100), a('198.51.100.7', 61000));
  classifier.observe('o2', a('2001:db8:a::1', 4100), a('2001:db8:5::2', 4100));
  assert.equal(changes, 0);
  assert.equal(classifier.state.observers, 4);
  assert.equal(classifier.state.mapping, 'consistent');
  assert.deepEqual(classifier.state.publicAddress, a('198.51.100.7', 61000));
  // A real change within one family still counts.
  classifier.observe('o1', a('2001:db8:9::1', 4100), a('2001:db8:5::3', 4100));
  assert.equal(changes, 1);
});
