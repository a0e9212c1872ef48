import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { canReach, reachOf, reachableAddresses } from '../../src/transport/reach.js';

const at = (host: string, port = 4100) => ({ host, port });
const iface = (address: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo =>
  ({ address, family, internal, netmask: '', mac: '', cidr: null, ...(family === 'IPv6' ? { scopeid: 0 } : {}) }) as NetworkInterfaceInfo;

test('a literal binding reaches its own family only', () => {
  const v4 = reachOf(at('127.0.0.1'));
  assert.equal(canReach(v4, at('10.1.2.3')), true);
  assert.equal(canReach(v4, at('::ffff:10.1.2.3')), true, 'v4-mapped is IPv4');
  assert.equal(canReach(v4, at('2001:db8::1')), false);
  assert.equal(canReach(v4, at('::1')), false);
  const any4 = reachOf(at('0.0.0.0'));
  assert.equal(canReach(any4, at('2001:db8::1')), false);
  const v6 = reachOf(at('2001:db8:1::5'));
  assert.equal(canReach(v6, at('2001:db8:2::1')), true);
  assert.equal(canReach(v6, at('::1')), true);
  assert.equal(canReach(v6, at('192.0.2.1')), false);
  assert.equal(canReach(v6, at('127.0.0.1')), false);
});

test("the '::' wildcard reaches loopback in both families and, beyond it, the families the host has addresses in", () => {
  const v4Host = () => ({ lo: [iface('127.0.0.1', 'IPv4', true), iface('::1', 'IPv6', true)], eth0: [iface('10.0.0.2', 'IPv4'), iface('fe80::1', 'IPv6')] });
  const reach = reachOf(at('::'), v4Host);
  assert.deepEqual(
    [at('10.9.9.9'), at('127.0.0.1'), at('::1'), at('2001:db8::1')].map((address) => canReach(reach, address)),
    [true, true, true, false],
    'a link-local IPv6 address is no route to global ones',
  );
  const v6Host = () => ({ lo: [iface('::1', 'IPv6', true)], eth0: [iface('2001:db8:3::1', 'IPv6')] });
  const six = reachOf(at('::'), v6Host);
  assert.deepEqual(
    [at('10.9.9.9'), at('2001:db8::1'), at('::1')].map((address) => canReach(six, address)),
    [false, true, true],
  );
});

test('simulated-network labels and an unknown binding reach everything; provider addresses keep their order', () => {
  assert.equal(canReach(reachOf(at('node-7')), at('2001:db8::1')), true);
  assert.equal(canReach(reachOf(undefined), at('192.0.2.1')), true);
  assert.equal(canReach(reachOf(at('127.0.0.1')), at('sim-host')), true);
  assert.deepEqual(reachableAddresses(reachOf(at('::1')), [at('192.0.2.1'), at('2001:db8::2'), at('127.0.0.1'), at('::1')]), [at('2001:db8::2'), at('::1')]);
});
