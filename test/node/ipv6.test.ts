/**
 * IPv6 over real UDP on loopback: an IPv6-only pair on ::1, and a mixed network of IPv4-only
 * (127.0.0.1), IPv6-only (::1) and dual-stack (::) nodes that discovers every service and
 * connects wherever the two ends share a family. The network-namespace variant with global
 * IPv6 addresses is test/natlab/ipv6.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { MccNode, type MccNodeOptions } from '../../src/index.js';

/** Writes `text` to a stream whose provider echoes, and reads the whole echo back. */
async function echo(stream: Duplex, text: string): Promise<string> {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    stream.once('end', resolve);
    stream.once('error', reject);
  });
  stream.end(text);
  await ended;
  return Buffer.concat(chunks).toString('utf8');
}

const echoHandler = (stream: Duplex): void => {
  stream.pipe(stream);
};

async function startNode(options: MccNodeOptions): Promise<MccNode> {
  const node = await MccNode.create({ lan: false, ...options });
  await node.start();
  return node;
}

describe('IPv6 on loopback', () => {
  it('an IPv6-only pair on ::1 joins, registers, looks up and connects', async (t) => {
    const a = await startNode({ host: '::1' });
    const b = await startNode({ host: '::1', bootstrap: [`[::1]:${a.address.port}`] });
    t.after(() => Promise.all([a.stop(), b.stop()]));
    assert.equal(a.address.host, '::1');

    await a.register('echo6', { handler: echoHandler });
    const found = await b.lookup('echo6', { fresh: true });
    assert.deepEqual(
      found.map((p) => p.id),
      [a.idHex],
    );
    // The record carries the IPv6 address through the wire's 16-byte form.
    assert.deepEqual(found[0].addresses[0], { host: '::1', port: a.address.port });
    assert.equal(await echo(await b.connect('echo6'), 'over IPv6'), 'over IPv6');
    // Both routing tables and peer tables hold the other at its IPv6 address.
    assert.deepEqual(
      b.peers().map((p) => [p.id, p.address.host]),
      [[a.idHex, '::1']],
    );
    assert.ok(a.peers().some((p) => p.id === b.idHex && p.address.host === '::1'));
  });

  it('a mixed network (IPv4-only, IPv6-only, dual stack) discovers every service and connects within a family', async (t) => {
    // The dual-stack seed is reached by IPv4 nodes at 127.0.0.1 and by IPv6 nodes at ::1: one socket, both families.
    const seed = await startNode({ host: '::' });
    const port = seed.address.port;
    const v4 = [
      await startNode({ host: '127.0.0.1', bootstrap: [`127.0.0.1:${port}`] }),
      await startNode({ host: '127.0.0.1', bootstrap: [`127.0.0.1:${port}`] }),
    ];
    const v6 = [await startNode({ host: '::1', bootstrap: [`[::1]:${port}`] }), await startNode({ host: '::1', bootstrap: [`[::1]:${port}`] })];
    const dual = await startNode({ host: '::', bootstrap: [`[::1]:${port}`] });
    const all = [seed, ...v4, ...v6, dual];
    t.after(() => Promise.all(all.map((node) => node.stop())));

    await v4[0].register('svc-v4', { handler: echoHandler });
    await v6[0].register('svc-v6', { handler: echoHandler });
    await dual.register('svc-dual', { handler: echoHandler });

    // Every node finds every provider: dual-stack nodes hold the records for both families.
    for (const node of all) {
      for (const [name, provider] of [
        ['svc-v4', v4[0]],
        ['svc-v6', v6[0]],
        ['svc-dual', dual],
      ] as const) {
        const found = await node.lookup(name, { fresh: true });
        assert.deepEqual(
          found.map((p) => p.id),
          [provider.idHex],
          `${node.address.host} looking up ${name}`,
        );
      }
    }

    // Single-stack nodes only ever talk to contacts of their family: contacts of the other one in
    // answers are skipped rather than tried, so not one request went unanswered.
    for (const node of v4)
      assert.ok(
        node.peers().every((p) => isIP(p.address.host) === 4),
        `IPv4-only node has ${JSON.stringify(node.peers())}`,
      );
    for (const node of v6)
      assert.ok(
        node.peers().every((p) => isIP(p.address.host) === 6),
        `IPv6-only node has ${JSON.stringify(node.peers())}`,
      );
    for (const node of [...v4, ...v6]) assert.equal(node.stats().rpc.timeouts, 0, `${node.address.host}: requests to unreachable contacts`);

    // Connects within a family, and from either family to the dual-stack provider.
    assert.equal(await echo(await v4[1].connect('svc-v4'), 'v4 to v4'), 'v4 to v4');
    assert.equal(await echo(await v6[1].connect('svc-v6'), 'v6 to v6'), 'v6 to v6');
    assert.equal(await echo(await v4[1].connect('svc-dual'), 'v4 to dual'), 'v4 to dual');
    assert.equal(await echo(await v6[1].connect('svc-dual'), 'v6 to dual'), 'v6 to dual');
    assert.equal(await echo(await dual.connect('svc-v4'), 'dual to v4'), 'dual to v4');
    assert.equal(await echo(await seed.connect('svc-v6'), 'dual to v6'), 'dual to v6');

    // Across families there is no common path (and no relay is listed): a typed error, not a hang.
    await assert.rejects(v4[1].connect('svc-v6', { timeoutMs: 5000 }), (error: Error & { code?: string }) => typeof error.code === 'string');
  });
});
