import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { MccNode } from '../../src/index.js';

const cli = fileURLToPath(new URL('../../src/cli/mcc.ts', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `mcc start ARGS` as a child process, once it printed its REST address; killed at the end of the test if still running. */
async function startMcc(t: { after: (fn: () => unknown) => void }, args: string[]): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'start', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const deadline = Date.now() + 20_000;
  while (!/rest on/.test(output) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  return { child, output: () => output, exited };
}

test('mcc --help explains the commands; a bad flag exits 2 with a message', () => {
  const help = execFileSync(process.execPath, ['--import', 'tsx', cli, '--help'], { encoding: 'utf8' });
  assert.match(help, /mcc start \[--host HOST\] \[--port PORT\] \[--bootstrap HOST:PORT\]/);
  try {
    execFileSync(process.execPath, ['--import', 'tsx', cli, 'start', '--port', 'x'], { encoding: 'utf8', stdio: 'pipe' });
    assert.fail('should exit non-zero');
  } catch (error) {
    const failure = error as { status: number; stderr: string };
    assert.equal(failure.status, 2);
    assert.match(failure.stderr, /--port/);
  }
});

test('mcc start with a bad --rest address fails fast and leaves nothing running', () => {
  try {
    execFileSync(process.execPath, ['--import', 'tsx', cli, 'start', '--host', '127.0.0.1', '--rest', 'notanaddress'], { encoding: 'utf8', stdio: 'pipe', timeout: 20_000 });
    assert.fail('should exit non-zero');
  } catch (error) {
    const failure = error as { status: number | null; stderr: string; signal: string | null };
    assert.equal(failure.signal, null, 'exited by itself');
    assert.equal(failure.status, 1);
    assert.match(failure.stderr, /--rest/);
  }
});

test('mcc start runs a node that answers pings and REST, prints its ID and address, and stops on SIGTERM', async (t) => {
  const seed = await MccNode.create({ host: '127.0.0.1' });
  await seed.start();
  t.after(() => seed.stop());
  const restPort = await freePort();
  const { child, output, exited } = await startMcc(t, ['--host', '127.0.0.1', '--bootstrap', `127.0.0.1:${seed.address.port}`, '--rest', `127.0.0.1:${restPort}`]);
  const id = /node ([0-9a-f]{64})/.exec(output())?.[1];
  const port = Number(/listening on udp 127\.0\.0\.1:(\d+)/.exec(output())?.[1]);
  assert.ok(id && port, output());

  const pong = await seed.ping({ host: '127.0.0.1', port });
  assert.equal(pong.id, id);
  const info = (await (await fetch(`http://127.0.0.1:${restPort}/node`)).json()) as { id: string; peers: number };
  assert.equal(info.id, id);
  assert.ok(info.peers >= 1, 'joined through the bootstrap node');

  child.kill('SIGTERM');
  assert.equal(await exited, 0, output());
  assert.match(output(), /stopped/);
});

test('mcc start --rest stops on SIGINT even while an HTTP client holds an unfinished request open', async (t) => {
  const restPort = await freePort();
  const { child, output, exited } = await startMcc(t, ['--host', '127.0.0.1', '--rest', `127.0.0.1:${restPort}`]);
  assert.match(output(), /rest on/);
  const { connect } = await import('node:net');
  const socket = connect(restPort, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('GET /node HTTP/1.1\r\nHost: x\r\n'); // the headers never end
  await new Promise((resolve) => setTimeout(resolve, 200));
  child.kill('SIGINT');
  const code = await Promise.race([exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 15_000))]);
  socket.destroy();
  assert.equal(code, 0, `exited by itself after SIGINT (output: ${output().trim().split('\n').slice(-2).join(' | ')})`);
  assert.match(output(), /mcc: stopped/);
});
