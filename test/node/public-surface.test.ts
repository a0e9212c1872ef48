import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { MccNode, generateIdentity, loadIdentity, saveIdentity, type MccError } from '../../src/index.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

test('no secret key appears in inspect, console or JSON output of a node or a key pair', async (t) => {
  const identity = generateIdentity();
  const secret = hex(identity.secretKey);
  const node = await MccNode.create({ host: '127.0.0.1', identity });
  await node.start();
  t.after(() => node.stop());
  const outputs = [
    inspect(node),
    inspect(node, { depth: Infinity, showHidden: true }),
    JSON.stringify(node),
    JSON.stringify({ node }),
    inspect(identity, { depth: Infinity, showHidden: true }),
    JSON.stringify(identity),
    JSON.stringify({ ...identity }),
    String(Object.keys(node)),
  ];
  for (const output of outputs) {
    assert.ok(!output.includes(secret), `secret key leaked in: ${output.slice(0, 200)}`);
    assert.ok(
      !output.includes(String(identity.secretKey[0]) + ', ' + String(identity.secretKey[1]) + ', ' + String(identity.secretKey[2])),
      'no secret bytes as a list',
    );
  }
  assert.match(inspect(node), new RegExp(`^MccNode \\{ id: '${node.idHex}', state: 'started', address: '127\\.0\\.0\\.1:\\d+' \\}$`));
  assert.deepEqual(JSON.parse(JSON.stringify(node)), { id: node.idHex, state: 'started', address: `127.0.0.1:${node.address.port}` });
  assert.deepEqual(Object.keys(node).sort(), ['id', 'idHex']);
  assert.equal(hex(identity.secretKey), secret, 'the secret is still readable on purpose');

  const dir = await mkdtemp(join(tmpdir(), 'mcc-surface-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await saveIdentity(join(dir, 'id.json'), identity);
  const loaded = await loadIdentity(join(dir, 'id.json'));
  assert.equal(hex(loaded.secretKey), secret, 'saved and loaded intact');
  assert.ok(!inspect(loaded, { showHidden: true }).includes(secret));
  // A node built from the loaded pair signs as the same identity.
  const again = await MccNode.create({ identity: loaded });
  assert.equal(again.idHex, node.idHex);
});

test('create() refuses unknown options, an invalid strategy and an unknown crypto suite, naming the option', async () => {
  const refused = async (options: object, argument: string): Promise<void> => {
    await assert.rejects(MccNode.create(options), (error: MccError) => {
      assert.equal(error.code, 'ERR_INVALID_ARGUMENT');
      assert.equal(error.details?.['argument'], argument);
      assert.match(error.message, new RegExp(`"${argument}"`));
      return true;
    });
  };
  await refused({ bootstraps: ['127.0.0.1:1'] }, 'bootstraps');
  await refused({ strategy: 'fastest' }, 'strategy');
  await refused({ crypto: 'sodium-please' }, 'crypto');
  await refused({ crypto: 42 }, 'crypto');
});

test('forward() to a service with no provider: each local connection is closed, an error event says why, and it is counted', async (t) => {
  const node = await MccNode.create({ host: '127.0.0.1', requestTimeoutMs: 300 });
  await node.start();
  t.after(() => node.stop());
  const forward = await node.forward('nobody-provides-this', { port: 0 });
  const failure = new Promise<MccError>((resolve) => forward.once('error', resolve));
  const socket = connect(forward.address.port, '127.0.0.1');
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => {});
  const error = await failure;
  await closed;
  assert.match(error.code, /^ERR_(NOT_FOUND|UNREACHABLE|TIMEOUT)$/);
  assert.equal(forward.failed, 1);
  assert.equal(node.forwards()[0].failed, 1);
  await forward.close();
});

test('forward() and unregister() take an AbortSignal', async (t) => {
  const node = await MccNode.create({ host: '127.0.0.1' });
  await node.start();
  t.after(() => node.stop());
  const aborted = AbortSignal.abort();
  await assert.rejects(node.forward('web', { port: 0, signal: aborted }), (error: MccError) => error.code === 'ERR_ABORTED');
  assert.deepEqual(node.forwards(), [], 'an aborted forward leaves no listener');
  const registration = await node.register('web', { port: 8080 });
  await registration.update({ v: 2 }, { signal: new AbortController().signal });
  assert.deepEqual(registration.metadata, { v: 2 });
  assert.equal(await node.unregister('web', { signal: AbortSignal.timeout(5000) }), true);
});

test('relay: { enabled: false } turns relaying off like relay: false; peers() dates contacts on the wall clock', async (t) => {
  const off = await MccNode.create({ host: '127.0.0.1', relay: { enabled: false } });
  await off.start();
  const on = await MccNode.create({ host: '127.0.0.1', bootstrap: [off.address] });
  await on.start();
  t.after(async () => {
    await on.stop();
    await off.stop();
  });
  assert.equal(off.stats().nat.relayServer.enabled, false);
  assert.equal(on.stats().nat.relayServer.enabled, true);
  const [peer] = on.peers();
  assert.ok(peer && Math.abs(peer.lastSeen - Date.now()) < 60_000, `lastSeen ${peer?.lastSeen} is a wall-clock time`);
});
