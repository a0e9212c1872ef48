import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateIdentity } from '../../src/crypto/identity.js';
import { nodeCryptoSuite } from '../../src/crypto/node-suite.js';
import { ANNOUNCE_SIZE, decodeAnnouncement, encodeAnnouncement } from '../../src/lan/announce.js';
import { IFF_LOOPBACK, IFF_MULTICAST, IFF_UP, inSubnet, lanInterfaces, type InterfaceAddress } from '../../src/lan/interfaces.js';
import { DATAGRAM_KINDS } from '../../src/wire/registry.js';
import { lanSettings } from '../../src/node/lan.js';
import type { MccNodeOptions } from '../../src/index.js';

const suite = nodeCryptoSuite;

test('an announcement round-trips, is 106 bytes, starts with the registry byte, and any changed bit is refused', () => {
  const identity = generateIdentity(suite);
  const time = 1_780_000_000_123;
  const packet = encodeAnnouncement(suite, identity, 4100, time, true);
  assert.equal(packet.length, ANNOUNCE_SIZE);
  assert.equal(packet[0], DATAGRAM_KINDS.lanAnnounce.byte);
  const decoded = decodeAnnouncement(suite, packet);
  assert.ok(typeof decoded !== 'string');
  assert.deepEqual(decoded.id, identity.publicKey);
  assert.equal(decoded.port, 4100);
  assert.equal(decoded.time, time);
  assert.equal(decoded.query, true);
  for (let bit = 0; bit < packet.length * 8; bit += 7) {
    const copy = Uint8Array.from(packet);
    copy[bit >> 3] ^= 1 << (bit & 7);
    assert.notEqual(typeof decodeAnnouncement(suite, copy), 'object', `bit ${bit} flipped was accepted`);
  }
  assert.equal(decodeAnnouncement(suite, packet.subarray(0, 105)), 'malformed');
  assert.equal(decodeAnnouncement(suite, new Uint8Array(ANNOUNCE_SIZE)), 'malformed');
  const random = Uint8Array.from({ length: ANNOUNCE_SIZE }, (_, i) => (i * 37 + 11) & 0xff);
  random[0] = DATAGRAM_KINDS.lanAnnounce.byte;
  random[1] = 0;
  assert.equal(decodeAnnouncement(suite, random), 'unauthenticated');
});

const lo: InterfaceAddress[] = [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', internal: true }];
const eth: InterfaceAddress[] = [
  { address: '192.168.7.20', netmask: '255.255.255.0', family: 'IPv4', internal: false },
  { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', internal: false },
];
const lo6: InterfaceAddress = { address: '::1', netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', family: 'IPv6', internal: true };
const ula: InterfaceAddress = { address: 'fd77::5', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', internal: false };
const hostFlags = (name: string): number => (name === 'lo' ? IFF_UP | IFF_LOOPBACK : IFF_UP | IFF_MULTICAST);
const labFlags = (name: string): number => (name === 'lo' ? IFF_UP | IFF_LOOPBACK | IFF_MULTICAST : IFF_UP | IFF_MULTICAST);

test('interfaces: a loopback-bound node announces only on a multicast-enabled lo, never on eth0', () => {
  const interfaces = { lo, eth0: eth };
  assert.deepEqual(lanInterfaces('127.0.0.1', interfaces, hostFlags), []);
  assert.deepEqual(lanInterfaces('127.0.0.2', interfaces, hostFlags), []);
  assert.deepEqual(
    lanInterfaces('127.0.0.2', interfaces, labFlags).map((lan) => lan.name),
    ['lo'],
  );
  assert.deepEqual(
    lanInterfaces('192.168.7.20', interfaces, labFlags).map((lan) => lan.name),
    ['eth0'],
  );
  assert.deepEqual(
    lanInterfaces('::', interfaces, hostFlags).map((lan) => `${lan.name}/${lan.family}`),
    ['eth0/4', 'eth0/6'],
    'dual stack: both families',
  );
  assert.deepEqual(
    lanInterfaces('0.0.0.0', interfaces, labFlags).map((lan) => lan.name),
    ['lo', 'eth0'],
  );
  assert.deepEqual(lanInterfaces('::1', { ...interfaces, lo: [...lo, lo6] }, labFlags), [], 'IPv6 never on loopback (Linux rejects it), never off it');
  assert.deepEqual(
    lanInterfaces('0.0.0.0', interfaces, labFlags).filter((lan) => lan.family === 6),
    [],
    'an IPv4 wildcard never sends IPv6',
  );
  assert.deepEqual(
    lanInterfaces('0.0.0.0', { eth0: eth }, () => IFF_UP),
    [],
    'no multicast flag, no announcements',
  );
  assert.deepEqual(
    lanInterfaces('0.0.0.0', interfaces, () => undefined).map((lan) => lan.name),
    ['eth0'],
    'flags unknown: loopback is never used',
  );
  assert.ok(inSubnet('192.168.7.99', lanInterfaces('::', interfaces, hostFlags)[0]));
  assert.ok(!inSubnet('10.0.0.1', lanInterfaces('::', interfaces, hostFlags)[0]));
});

test('lanSettings: on by default; off with lan: false, a custom transport, or MCC_LAN=off when lan is not given', () => {
  const transport = {} as MccNodeOptions['transport'];
  assert.deepEqual(lanSettings({}, {}), {});
  assert.deepEqual(lanSettings({ lan: { intervalMs: 5000 } }, {}), { intervalMs: 5000 });
  assert.equal(lanSettings({ lan: false }, {}), undefined);
  assert.equal(lanSettings({ transport }, {}), undefined);
  for (const value of ['off', 'OFF', '0', 'false', 'no']) assert.equal(lanSettings({}, { MCC_LAN: value }), undefined, value);
  assert.deepEqual(lanSettings({ lan: true }, { MCC_LAN: 'off' }), {}, 'an explicit lan: true wins over the environment');
  assert.deepEqual(lanSettings({}, { MCC_LAN: 'on' }), {});
});

test('interfaces, IPv6: the announced address is one the node serves on that link', () => {
  const interfaces = {
    lo: [...lo, lo6],
    eth0: [...eth, ula],
    eth1: [{ address: 'fe80::2', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', internal: false }],
  };
  const v6 = (host: string): string[] =>
    lanInterfaces(host, interfaces, labFlags)
      .filter((lan) => lan.family === 6)
      .map((lan) => `${lan.name} ${lan.address}`);
  assert.deepEqual(v6('::'), ['eth0 fd77::5', 'eth1 fe80::2%eth1'], 'wildcard: a ULA/global address first, else link-local with its zone');
  assert.deepEqual(v6('fd77::5'), ['eth0 fd77::5'], 'bound to one address: only its interface, from that address');
  assert.deepEqual(v6('fe80::1%eth0'), ['eth0 fe80::1%eth0']);
  assert.deepEqual(v6('fe80::2'), ['eth1 fe80::2%eth1']);
  assert.deepEqual(
    lanInterfaces('fd77::5', interfaces, labFlags).filter((lan) => lan.family === 4),
    [],
    'an IPv6 bind sends no IPv4',
  );
  const [eth0] = lanInterfaces('::', interfaces, labFlags).filter((lan) => lan.name === 'eth0' && lan.family === 6);
  assert.ok(inSubnet('fd77::99', eth0));
  assert.ok(inSubnet('fe80::abcd%eth0', eth0), 'link-local on this link');
  assert.ok(!inSubnet('fe80::abcd%eth1', eth0), 'link-local heard on another link');
  assert.ok(!inSubnet('fd78::1', eth0), 'outside the prefixes');
  assert.ok(!inSubnet('192.168.7.99', eth0), 'the other family');
});
