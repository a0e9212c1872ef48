/** A relayed tunnel's circuit is released on both ends as soon as the tunnel closes, not when it idles out. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { isVirtualAddress } from '../../src/nat/relay-packet.js';
import type { MccNode } from '../../src/index.js';
import { NodeWorld } from './node-world.js';

const circuits = (node: MccNode): number =>
  (node as unknown as { nat: { service: { relayClient: { circuitCount: number } } } }).nat.service.relayClient.circuitCount;

test('closing a relayed tunnel releases its circuit at both ends at once', async () => {
  const world = new NodeWorld(31);
  try {
    await world.addInfrastructure(4, 0);
    const provider = await world.addNode('symmetric');
    const client = await world.addNode('symmetric'); // symmetric/symmetric: relayed, no punch
    await world.drive(provider.register('echo', { handler: (stream: Duplex) => stream.pipe(stream) }));
    const stream = await world.drive(client.connect('echo'));
    stream.on('error', () => {});
    assert.equal(await world.roundTrip(stream, 'ping'), 'ping');
    const connection = client.tunnels.connections.find((candidate) => Buffer.from(candidate.peer).equals(Buffer.from(provider.id)))!;
    assert.ok(isVirtualAddress(connection.address), 'the tunnel runs over a circuit');
    assert.ok(circuits(client) >= 1 && circuits(provider) >= 1);
    const before = { client: circuits(client), provider: circuits(provider) };
    connection.close();
    await world.until(() => circuits(client) < before.client && circuits(provider) < before.provider, 5_000);
    assert.equal(circuits(client), before.client - 1, 'the client released its end');
    assert.equal(circuits(provider), before.provider - 1, 'the provider released its end (within seconds, not after the 2 min idle time)');
  } finally {
    await world.close();
  }
});

test('a circuit two tunnel connections share stays while one of them is open', async () => {
  const world = new NodeWorld(31);
  try {
    await world.addInfrastructure(4, 0);
    const provider = await world.addNode('symmetric');
    const client = await world.addNode('symmetric');
    await world.drive(provider.register('echo', { handler: (stream: Duplex) => stream.pipe(stream) }));
    const stream = await world.drive(client.connect('echo'));
    stream.on('error', () => {});
    assert.equal(await world.roundTrip(stream, 'ping'), 'ping');
    const live = client.tunnels.connections.find((candidate) => Buffer.from(candidate.peer).equals(Buffer.from(provider.id)))!;
    const virtual = { ...live.address };
    // What a handshake repeated while the circuit was opening leaves behind: a second
    // connection over the same circuit at the provider, which then idles out.
    const pending = client.tunnels.initiate(provider.id, virtual, new TextEncoder().encode('echo'));
    await world.drive(client.rpc.request({ id: provider.id, address: virtual }, { tunnelInit: { handshake: pending.message } }, { timeoutMs: 3000 }));
    const toClient = () => provider.tunnels.connections.filter((candidate) => Buffer.from(candidate.peer).equals(Buffer.from(client.id))).length;
    assert.equal(toClient(), 2, 'two connections over one circuit');
    await world.until(() => toClient() === 1, 60_000); // the orphan idles out
    assert.equal(toClient(), 1);
    assert.equal(await world.roundTrip(stream, 'pong'), 'pong', 'the live connection still works over the circuit');
    assert.equal(live.closed, false);
  } finally {
    await world.close();
  }
});
