import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MccError } from '../../src/errors.js';
import { bytesToIp, fromSocketAddress, ipToBytes, toSocketAddress } from '../../src/wire/address.js';
import { decodeEnvelope, encodeEnvelope } from '../../src/wire/codec.js';

const hex = (b: Uint8Array | null): string | null => (b ? Buffer.from(b).toString('hex') : null);

test('IPv4 and IPv6 literals convert to 4 and 16 bytes', () => {
  assert.equal(hex(ipToBytes('127.0.0.1')), '7f000001');
  assert.equal(hex(ipToBytes('255.255.255.255')), 'ffffffff');
  assert.equal(hex(ipToBytes('::1')), '00000000000000000000000000000001');
  assert.equal(hex(ipToBytes('::')), '00000000000000000000000000000000');
  assert.equal(hex(ipToBytes('2001:db8::8:800:200c:417a')), '20010db8000000000008080020 0c417a'.replace(' ', ''));
  assert.equal(hex(ipToBytes('fe80::1%eth0')), 'fe800000000000000000000000000001');
  assert.equal(hex(ipToBytes('::ffff:192.0.2.1')), '00000000000000000000ffffc0000201');
  assert.equal(hex(ipToBytes('1:2:3:4:5:6:7:8')), '00010002000300040005000600070008');
  assert.equal(hex(ipToBytes('1::')), '00010000000000000000000000000000');
  assert.equal(ipToBytes('node-7'), null);
  assert.equal(ipToBytes('256.0.0.1'), null);
  assert.equal(ipToBytes('1:2:3'), null);
});

test('bytes format back to canonical (RFC 5952) literals', () => {
  const cases: Array<[string, string]> = [
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['::', '::'],
    ['2001:0db8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
    ['::ffff:10.1.2.3', '::ffff:10.1.2.3'],
    ['fe80::', 'fe80::'],
  ];
  for (const [input, canonical] of cases) assert.equal(bytesToIp(ipToBytes(input)!), canonical, input);
  assert.equal(bytesToIp(new Uint8Array(5)), null);
});

test('Address <-> SocketAddress round-trips through the wire', () => {
  for (const address of [
    { host: '127.0.0.1', port: 4100 },
    { host: '::1', port: 65535 },
    { host: '10.0.0.2', port: 0 },
  ]) {
    const bytes = encodeEnvelope({ pong: { observed: toSocketAddress(address) } });
    assert.deepEqual(fromSocketAddress(decodeEnvelope(bytes).pong!.observed), address);
  }
});

test('sending side throws on bad addresses, receiving side returns null', () => {
  const invalid = (err: unknown): boolean => err instanceof MccError && err.code === 'ERR_INVALID_ARGUMENT';
  assert.throws(() => toSocketAddress({ host: 'example.com', port: 1 }), invalid);
  assert.throws(() => toSocketAddress({ host: '127.0.0.1', port: 70000 }), invalid);
  assert.equal(fromSocketAddress({ ip: new Uint8Array(5), port: 1 }), null);
  assert.equal(fromSocketAddress({ ip: new Uint8Array(4), port: 70000 }), null);
  assert.equal(fromSocketAddress({ port: 1 }), null);
  assert.equal(fromSocketAddress(null), null);
});
