import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateIdentity, nodeCryptoSuite } from '../../src/crypto/index.js';
import { SimNetwork } from '../../src/transport/sim/index.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';
import { TunnelDriver } from '../../src/tunnel/driver.js';
import type { TunnelStream } from '../../src/tunnel/stream.js';
import { connectPair, readAll } from './helpers.js';

/** A connected tunnel pair on a fresh simulated network under a virtual clock. */
async function simPair(latencyMs?: number, config?: Parameters<typeof connectPair>[3]) {
  const clock = new VirtualClock();
  const network = new SimNetwork({ clock, ...(latencyMs !== undefined ? { defaultLink: { latencyMs } } : {}) });
  const pair = await connectPair(network.createTransport(), network.createTransport(), clock, config);
  return { clock, network, pair };
}

test('a retransmitted init gets the same answer and no second connection; refusals and garbage return null', async () => {
  const clock = new VirtualClock();
  const network = new SimNetwork({ clock });
  const a = network.createTransport();
  const b = network.createTransport();
  await a.bind();
  const bAddress = await b.bind();
  const bIdentity = generateIdentity();
  const client = new TunnelDriver({ transport: a, clock, suite: nodeCryptoSuite, identity: generateIdentity(), listen: true });
  const server = new TunnelDriver({ transport: b, clock, suite: nodeCryptoSuite, identity: bIdentity, listen: true });
  const pending = client.initiate(bIdentity.publicKey, bAddress, new TextEncoder().encode('web'));
  let seen = '';
  const first = server.accept(pending.message, a.localAddress(), (_peer, payload) => {
    seen = new TextDecoder().decode(payload);
    return new Uint8Array([1]);
  });
  const again = server.accept(pending.message, a.localAddress());
  assert.ok(first && again);
  assert.equal(seen, 'web');
  assert.deepEqual(again.response, first.response);
  assert.equal(server.connections.length, 1);
  const other = client.initiate(bIdentity.publicKey, bAddress);
  assert.equal(
    server.accept(other.message, a.localAddress(), () => null),
    null,
    'refused by decide()',
  );
  assert.equal(server.accept(new Uint8Array(200), a.localAddress()), null);
  assert.equal(server.handleDatagram(new Uint8Array([0x12, 1, 2, 3]), a.localAddress()), false);
  assert.equal(server.handleDatagram(new Uint8Array(100).fill(0x12), a.localAddress()), false);
  const done = pending.complete(first.response);
  assert.ok(done);
  assert.deepEqual(done.payload, new Uint8Array([1]));
  assert.ok(client.connectionTo(bIdentity.publicKey));
  await client.close();
  await server.close();
  await clock.run(100);
  assert.equal(clock.pending, 0);
});

test('keep-alives hold an idle connection open past the idle timeout', async () => {
  const { clock, pair } = await simPair(10, { idleTimeoutMs: 3000, keepAliveMs: 1000 });
  await clock.run(20_000);
  assert.equal(pair.clientConnection.closed, false, 'keep-alives kept it open for 20 s');
  await pair.close();
  await clock.run(100);
  assert.equal(clock.pending, 0);
});

test('idle timeout fires when the peer vanishes silently', async () => {
  const { clock, network, pair } = await simPair(10, { idleTimeoutMs: 3000, keepAliveMs: 1000 });
  const stream = pair.clientConnection.openStream();
  const streamError = new Promise<Error & { code?: string }>((resolve) => stream.once('error', resolve));
  const closed = new Promise<Error & { code?: string }>((resolve) => pair.clientConnection.once('close', (e) => resolve(e!)));
  network.setLink(pair.clientConnection.address.host, pair.serverConnection.address.host, { loss: 1 }); // the path goes dark
  await clock.run(5000);
  const error = await closed;
  assert.equal(error.code, 'ERR_TIMEOUT');
  assert.equal((await streamError).code, 'ERR_TIMEOUT');
  await pair.close();
  await clock.run(100);
  assert.equal(clock.pending, 0);
});

test('closing a connection errors its open streams on both sides', async () => {
  const { clock, pair } = await simPair();
  const serverStream = new Promise<TunnelStream>((resolve) => pair.serverConnection.once('stream', resolve));
  const stream = pair.clientConnection.openStream();
  stream.write('hi');
  await clock.run(50);
  const server = await serverStream;
  const serverError = new Promise<Error & { code?: string }>((resolve) => server.once('error', resolve));
  const clientError = new Promise<Error & { code?: string }>((resolve) => stream.once('error', resolve));
  pair.clientConnection.close();
  await clock.run(50);
  assert.equal((await clientError).code, 'ERR_STREAM');
  assert.match((await serverError).message, /closed by peer/);
  assert.throws(() => pair.clientConnection.openStream(), { code: 'ERR_STOPPED' });
  await pair.close();
  await clock.run(100);
  assert.equal(clock.pending, 0);
});

test('streams opened by the responder work too (odd IDs)', async () => {
  const { clock, pair } = await simPair();
  pair.clientConnection.on('stream', (s: TunnelStream) => s.pipe(s));
  const stream = pair.serverConnection.openStream();
  assert.equal(stream.id % 2, 1);
  const echoed = readAll(stream);
  stream.end('from the responder');
  await clock.run(200);
  assert.equal((await echoed).toString(), 'from the responder');
  await pair.close();
  await clock.run(100);
  assert.equal(clock.pending, 0);
});

test('a responder sends nothing to an unverified address (replayed init) and the orphan connection idles out', async () => {
  const clock = new VirtualClock();
  const network = new SimNetwork({ clock });
  const a = network.createTransport();
  const b = network.createTransport();
  await a.bind();
  const bAddress = await b.bind();
  const bIdentity = generateIdentity();
  const client = new TunnelDriver({ transport: a, clock, suite: nodeCryptoSuite, identity: generateIdentity() });
  const server = new TunnelDriver({
    transport: b,
    clock,
    suite: nodeCryptoSuite,
    identity: bIdentity,
    listen: true,
    config: { idleTimeoutMs: 2000, keepAliveMs: 500 },
  });
  const pending = client.initiate(bIdentity.publicKey, bAddress);
  const victim = network.createTransport();
  await victim.bind();
  const accepted = server.accept(pending.message, victim.localAddress()); // as if replayed from a spoofed source
  assert.ok(accepted);
  const pushed = accepted.connection.openStream();
  const pushedError = new Promise<Error & { code?: string }>((resolve) => pushed.once('error', resolve));
  pushed.write('pushed data waits for validation');
  const closed = new Promise((resolve) => accepted.connection.once('close', resolve));
  await clock.run(3000);
  assert.equal(b.counters.sent, 0, 'not a single datagram to the unverified address');
  assert.equal(victim.counters.received, 0);
  await closed;
  assert.equal((await pushedError).code, 'ERR_TIMEOUT');
  assert.equal(server.connections.length, 0);
  await client.close();
  await server.close();
  await clock.run(100);
  assert.equal(clock.pending, 0);
});
