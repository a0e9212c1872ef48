import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, describe, test } from 'node:test';
import { MccError } from '../../src/errors.js';
import { UdpTransport, unmapIpv4 } from '../../src/transport/udp.js';
import type { Address } from '../../src/util/address.js';

/** Resolves with the next datagram a transport receives (copied), or rejects after `ms`. */
function nextDatagram(transport: UdpTransport, ms = 2000): Promise<{ data: Uint8Array; from: Address }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no datagram within ' + ms + ' ms')), ms);
    transport.onDatagram((data, from) => {
      clearTimeout(timer);
      resolve({ data: Uint8Array.from(data), from });
    });
  });
}

/** Whether this machine can bind ::1 (IPv6 loopback). */
async function ipv6Available(): Promise<boolean> {
  const socket = dgram.createSocket('udp6');
  return new Promise((resolve) => {
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(0, '::1', () => socket.close(() => resolve(true)));
  });
}

const open: UdpTransport[] = [];
function make(options?: ConstructorParameters<typeof UdpTransport>[0]): UdpTransport {
  const transport = new UdpTransport(options);
  open.push(transport);
  return transport;
}
after(async () => {
  await Promise.all(open.map((t) => t.close()));
});

const hasIpv6 = await ipv6Available();
const noIpv6Reason = hasIpv6 ? false : 'IPv6 loopback (::1) cannot be bound on this machine';

describe('UdpTransport', () => {
  test('two transports on 127.0.0.1 exchange datagrams; port 0 allocates a port', async () => {
    const a = make({ host: '127.0.0.1' });
    const b = make({ host: '127.0.0.1', port: 0 });
    const addressA = await a.bind();
    const addressB = await b.bind();
    assert.equal(addressA.host, '127.0.0.1');
    assert.ok(addressA.port > 0 && addressB.port > 0 && addressA.port !== addressB.port);
    assert.deepEqual(a.localAddress(), addressA);

    const atB = nextDatagram(b);
    a.send(addressB, new Uint8Array([1, 2, 3]));
    const first = await atB;
    assert.deepEqual([...first.data], [1, 2, 3]);
    assert.deepEqual(first.from, addressA);

    const atA = nextDatagram(a);
    b.send(first.from, new Uint8Array([4, 5]));
    const reply = await atA;
    assert.deepEqual([...reply.data], [4, 5]);
    assert.deepEqual(reply.from, addressB);
    assert.equal(a.counters.sent, 1);
    assert.equal(b.counters.received, 1);
    assert.equal(a.counters.received, 1);
  });

  test('IPv6 loopback ::1', { skip: noIpv6Reason }, async () => {
    const a = make({ host: '::1' });
    const b = make({ host: '::1' });
    const addressA = await a.bind();
    const addressB = await b.bind();
    assert.equal(addressA.host, '::1');
    const atB = nextDatagram(b);
    a.send(addressB, new Uint8Array([6]));
    const got = await atB;
    assert.deepEqual([...got.data], [6]);
    assert.deepEqual(got.from, addressA);
  });

  test('dual stack: IPv4 peers appear as plain IPv4 and plain IPv4 destinations work', { skip: noIpv6Reason }, async () => {
    const dual = make(); // default host: '::' with IPv4 accepted
    const v4 = make({ host: '127.0.0.1' });
    const dualAddress = await dual.bind();
    const v4Address = await v4.bind();
    assert.equal(dualAddress.host, '::');
    assert.equal(dual.isDualStack, true);

    const atDual = nextDatagram(dual);
    v4.send({ host: '127.0.0.1', port: dualAddress.port }, new Uint8Array([7]));
    const got = await atDual;
    assert.deepEqual(got.from, v4Address, 'the ::ffff: prefix is stripped');

    const atV4 = nextDatagram(v4);
    dual.send(got.from, new Uint8Array([8])); // plain IPv4 destination from a v6 socket
    const back = await atV4;
    assert.deepEqual([...back.data], [8]);
    assert.equal(back.from.host, '127.0.0.1');
    assert.equal(dual.counters.sendErrors, 0);
  });

  test('unmapIpv4 only strips real v4-mapped addresses', () => {
    assert.equal(unmapIpv4('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(unmapIpv4('::ffff:abcd'), '::ffff:abcd');
    assert.equal(unmapIpv4('::1'), '::1');
    assert.equal(unmapIpv4('127.0.0.1'), '127.0.0.1');
  });

  test('binding a busy port rejects with ERR_TRANSPORT naming the address, leaving no handle', async () => {
    const first = make({ host: '127.0.0.1' });
    const { port } = await first.bind();
    const handlesBefore = process.getActiveResourcesInfo().filter((name) => name === 'UDPWrap').length;
    const second = make({ host: '127.0.0.1', port });
    await assert.rejects(second.bind(), (error: unknown) => {
      assert.ok(error instanceof MccError);
      assert.equal(error.code, 'ERR_TRANSPORT');
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      return true;
    });
    assert.throws(() => second.localAddress(), { code: 'ERR_TRANSPORT' });
    assert.equal(process.getActiveResourcesInfo().filter((name) => name === 'UDPWrap').length, handlesBefore);
  });

  test('bad options throw ERR_INVALID_ARGUMENT', () => {
    assert.throws(() => new UdpTransport({ host: 'example.com' }), { code: 'ERR_INVALID_ARGUMENT' });
    assert.throws(() => new UdpTransport({ port: 70000 }), { code: 'ERR_INVALID_ARGUMENT' });
    assert.throws(() => new UdpTransport({ recvBufferSize: -1 }), { code: 'ERR_INVALID_ARGUMENT' });
  });

  test('bad destinations are counted, never thrown', async () => {
    const a = make({ host: '127.0.0.1' });
    await a.bind();
    a.send({ host: 'not-an-ip', port: 9 }, new Uint8Array([1]));
    a.send({ host: '127.0.0.1', port: 70000 }, new Uint8Array([1]));
    a.send({ host: '::1', port: 9 }, new Uint8Array([1])); // IPv6 from an IPv4 socket
    assert.equal(a.counters.sendErrors, 3);
    assert.equal(a.counters.sent, 0);
  });

  test('a send the kernel refuses is counted as an error, not as sent', async () => {
    const a = make({ host: '127.0.0.1' });
    await a.bind();
    a.send({ host: '127.0.0.1', port: 9 }, new Uint8Array(70_000)); // over the UDP maximum: EMSGSIZE
    a.send({ host: '127.0.0.1', port: 9 }, new Uint8Array(10));
    for (let i = 0; i < 100 && a.counters.sent + a.counters.sendErrors < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(a.counters.sendErrors, 1);
    assert.equal(a.counters.sent, 1);
  });

  test('receive buffer is requested and the actual size reported', async () => {
    const a = make({ host: '127.0.0.1', recvBufferSize: 1 << 20 });
    assert.equal(a.recvBufferSize, undefined);
    await a.bind();
    assert.ok((a.recvBufferSize ?? 0) > 0);
    assert.ok((a.sendBufferSize ?? 0) > 0);
  });

  test('close is idempotent, ignores later sends and leaves no handle behind', async () => {
    const udpHandles = () => process.getActiveResourcesInfo().filter((name) => name === 'UDPWrap').length;
    await Promise.all(open.splice(0).map((t) => t.close()));
    const before = udpHandles();
    const a = new UdpTransport({ host: '127.0.0.1' });
    const b = new UdpTransport(); // dual stack or IPv4 fallback
    const addressA = await a.bind();
    await b.bind();
    assert.equal(udpHandles(), before + 2);
    const closing = a.close();
    assert.equal(a.close(), closing, 'the same promise while closing');
    await closing;
    await a.close();
    await Promise.all([b.close(), b.close()]);
    a.send(addressA, new Uint8Array([1]));
    assert.equal(a.counters.sendErrors, 0);
    await assert.rejects(a.bind(), { code: 'ERR_TRANSPORT' });
    assert.equal(udpHandles(), before);
    // never bound: close resolves too
    await new UdpTransport().close();
  });

  test('close while binding releases the socket', async () => {
    const udpHandles = () => process.getActiveResourcesInfo().filter((name) => name === 'UDPWrap').length;
    const before = udpHandles();
    const a = new UdpTransport({ host: '127.0.0.1' });
    const binding = a.bind();
    await a.close();
    await assert.rejects(binding, { code: 'ERR_TRANSPORT' });
    assert.equal(udpHandles(), before);
  });
});
