/**
 * UdpTransport's per-datagram shortcuts on real loopback sockets: the source address
 * object is shared while the source stays the same (and right when it changes), and
 * watched sends still surface a kernel error that persists through a burst.
 */

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { UdpTransport } from '../../src/transport/udp.js';
import type { Address } from '../../src/util/address.js';

const open: UdpTransport[] = [];
async function bound(): Promise<{ transport: UdpTransport; address: Address }> {
  const transport = new UdpTransport({ host: '127.0.0.1' });
  open.push(transport);
  return { transport, address: await transport.bind() };
}
after(async () => {
  await Promise.all(open.map((t) => t.close()));
});

test('source addresses: one shared object per run of datagrams from one peer, the right one when peers interleave', async () => {
  const receiver = await bound();
  const a = await bound();
  const b = await bound();
  const seen: { from: Address; tag: number }[] = [];
  let wake: () => void = () => {};
  receiver.transport.onDatagram((data, from) => {
    seen.push({ from, tag: data[0] });
    wake();
  });
  const until = (count: number): Promise<void> =>
    new Promise((resolve) => {
      wake = () => {
        if (seen.length >= count) resolve();
      };
      wake();
    });
  // One datagram at a time, each waited for, so the arrival order is the sending order.
  const order = [1, 1, 1, 2, 2, 1, 2, 2, 2, 1];
  for (const [i, who] of order.entries()) {
    (who === 1 ? a : b).transport.send(receiver.address, new Uint8Array([who]));
    await until(i + 1);
  }
  for (const { from, tag } of seen) assert.deepEqual(from, tag === 1 ? a.address : b.address);
  for (let i = 1; i < seen.length; i++) {
    const same = seen[i].tag === seen[i - 1].tag;
    assert.equal(seen[i].from === seen[i - 1].from, same, `datagram ${i}: ${same ? 'same source, same object' : 'new source, new object'}`);
  }
  assert.equal(receiver.transport.counters.received, order.length);
});

test('a kernel error that persists through bursts is counted (watched sends), and good sends keep counting as sent', async () => {
  const a = await bound();
  const sink = await bound();
  // Over the UDP maximum: the kernel refuses every one of these (EMSGSIZE).
  for (let burst = 0; burst < 3; burst++) {
    for (let i = 0; i < 10; i++) a.transport.send(sink.address, new Uint8Array(70_000));
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.ok(a.transport.counters.sendErrors >= 3, `one watched send per burst is refused: ${a.transport.counters.sendErrors}`);
  const before = a.transport.counters.sent + a.transport.counters.sendErrors;
  for (let i = 0; i < 5; i++) a.transport.send(sink.address, new Uint8Array(10));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(a.transport.counters.sent + a.transport.counters.sendErrors, before + 5, 'every datagram is counted once');
});
