import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('../fixtures/start-stop.ts', import.meta.url));

test('a process exits by itself right after stop(): no socket, stream, TCP listener or timer is left', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const started = Date.now();
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, output);
  assert.match(output, /stopped at (\d+)/);
  const stoppedAt = Number(/stopped at (\d+)/.exec(output)![1]);
  // The fixture never calls process.exit: exiting proves nothing keeps the loop alive.
  assert.ok(Date.now() - stoppedAt < 10_000, `process lingered ${Date.now() - stoppedAt} ms after stop()`);
  assert.ok(Date.now() - started < 30_000);
  assert.match(output, /active resources after stop: none/);
  assert.match(output, /open stream ended with ERR_STREAM/);
});
