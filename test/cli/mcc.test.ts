import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { MccNode } from '../../src/index.js';
import { exitWithin, runMcc, startMcc, tempDir, testEnv } from './helpers.js';

test('mcc --help explains the commands; a bad flag exits 2 with a message naming it', async (t) => {
  const env = testEnv(tempDir(t));
  const help = await runMcc(['--help'], env);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /mcc start \[--host HOST\] \[--port PORT\] \[--bootstrap HOST:PORT\]/);
  for (const command of ['status', 'lookup', 'expose', 'unforward']) assert.match(help.stdout, new RegExp(`mcc ${command}`));
  const badPort = await runMcc(['start', '--port', 'x'], env);
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /--port/);
  const unknown = await runMcc(['start', '--foo'], env);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr.trim(), 'mcc start: unknown option --foo (see mcc start --help)');
  assert.doesNotMatch(unknown.stderr, /positional|place it at the end|'--'/, 'no parseArgs hints');
  const missing = await runMcc(['start', '--bootstrap'], env);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr.trim(), 'mcc start: option --bootstrap needs a value (see mcc start --help)');
  const command = await runMcc(['frobnicate'], env);
  assert.equal(command.code, 2);
  assert.match(command.stderr, /unknown command "frobnicate" \(see mcc --help\)/);
});

test('mcc start with a bad --rest address fails fast (exit 2) and leaves nothing running', async (t) => {
  const run = await runMcc(['start', '--host', '127.0.0.1', '--rest', 'notanaddress'], testEnv(tempDir(t)));
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--rest/);
});

test('mcc start runs a node that answers pings and REST, prints its ID and address, and stops on SIGTERM', async (t) => {
  const seed = await MccNode.create({ host: '127.0.0.1' });
  await seed.start();
  t.after(() => seed.stop());
  const daemon = await startMcc(t, ['--host', '127.0.0.1', '--bootstrap', `127.0.0.1:${seed.address.port}`, '--rest', '127.0.0.1:0'], {
    env: testEnv(tempDir(t)),
  });
  const id = /node ([0-9a-f]{64})/.exec(daemon.output())?.[1];
  const port = Number(/listening on udp 127\.0\.0\.1:(\d+)/.exec(daemon.output())?.[1]);
  assert.ok(id && port && daemon.url, daemon.output());

  const pong = await seed.ping({ host: '127.0.0.1', port });
  assert.equal(pong.id, id);
  const info = (await (await fetch(`${daemon.url}/v1/node`)).json()) as { id: string; peers: number };
  assert.equal(info.id, id);
  assert.ok(info.peers >= 1, 'joined through the bootstrap node');

  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0, daemon.output());
  assert.match(daemon.output(), /stopped/);
});

test('mcc start --rest stops on SIGINT even while an HTTP client holds an unfinished request open', async (t) => {
  const daemon = await startMcc(t, ['--host', '127.0.0.1', '--rest', '127.0.0.1:0'], { env: testEnv(tempDir(t)) });
  assert.ok(daemon.url, daemon.output());
  const socket = connect(Number(new URL(daemon.url).port), '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('GET /v1/node HTTP/1.1\r\nHost: x\r\n'); // the headers never end
  await new Promise((resolve) => setTimeout(resolve, 200));
  daemon.child.kill('SIGINT');
  const code = await exitWithin(daemon, 15_000);
  socket.destroy();
  assert.equal(code, 0, `exited by itself after SIGINT (output: ${daemon.output().trim().split('\n').slice(-2).join(' | ')})`);
  assert.match(daemon.output(), /mcc: stopped/);
});
