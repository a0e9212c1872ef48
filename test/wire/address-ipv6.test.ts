import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromSocketAddress, ipToBytes, toSocketAddress } from '../../src/wire/address.js';
import { subnetGroup } from '../../src/kademlia/subnet.js';

test('a v4-mapped address on the wire decodes as plain IPv4 (one spelling per host)', () => {
  assert.deepEqual(fromSocketAddress({ ip: ipToBytes('::ffff:192.0.2.9')!, port: 4100 }), { host: '192.0.2.9', port: 4100 });
  assert.deepEqual(fromSocketAddress(toSocketAddress({ host: '::ffff:10.1.2.3', port: 1 })), { host: '10.1.2.3', port: 1 });
  // Only the ::ffff:0:0/96 prefix is unmapped; other IPv6 addresses with a dotted tail stay IPv6.
  assert.deepEqual(fromSocketAddress({ ip: ipToBytes('64:ff9b::192.0.2.9')!, port: 2 }), { host: '64:ff9b::c000:209', port: 2 });
  assert.deepEqual(fromSocketAddress({ ip: ipToBytes('2001:db8::1')!, port: 3 }), { host: '2001:db8::1', port: 3 });
});

test('the subnet rule: IPv6 groups by /48, NAT64 by the embedded IPv4 /24, mapped IPv4 like IPv4', () => {
  assert.equal(subnetGroup('2001:db8:1:2::1'), subnetGroup('2001:db8:1:ffff::9'));
  assert.notEqual(subnetGroup('2001:db8:1::1'), subnetGroup('2001:db8:2::1'));
  assert.equal(subnetGroup('64:ff9b::198.51.100.7'), subnetGroup('198.51.100.200'));
  assert.notEqual(subnetGroup('64:ff9b::198.51.100.7'), subnetGroup('64:ff9b::198.51.101.7'));
  assert.equal(subnetGroup('::ffff:198.51.100.7'), subnetGroup('198.51.100.1'));
  for (const exempt of ['::1', 'fe80::1', 'fd00:1::5', '::ffff:127.0.0.1', '64:ff9b::10.0.0.1']) assert.equal(subnetGroup(exempt), undefined, exempt);
});
