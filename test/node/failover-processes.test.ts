import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Duplex } from 'node:stream';
import { MccNode, formatAddress } from '../../src/index.js';

const fixture = fileURLToPath(new URL('../fixtures/echo-provider.ts', import.meta.url));
const PROVIDERS = 10;
const KILLED = 4;

/** Starts one provider process; resolves with it and its node ID once it registered. */
function startProvider(bootstrap: string): Promise<{ child: ChildProcess; id: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, bootstrap], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const ready = /ready ([0-9a-f]{64})/.exec(output);
      if (ready) resolve({ child, id: ready[1] });
    });
    child.once('exit', (code) => reject(new Error(`provider exited early (${code})`)));
  });
}

async function echo(stream: Duplex, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    stream.on('data', (chunk: Buffer) => {
      got += chunk.toString();
      if (got.length >= text.length) resolve(got);
    });
    stream.once('error', reject);
    stream.write(text);
  });
}

test('connect() keeps trying while providers live: provider processes killed with SIGKILL cost no failed connect', { timeout: 180_000 }, async (t) => {
  const seed = await MccNode.create({ host: '127.0.0.1' });
  await seed.start();
  const bootstrap = formatAddress(seed.address);
  const providers = await Promise.all(Array.from({ length: PROVIDERS }, () => startProvider(bootstrap)));
  t.after(() => {
    for (const { child } of providers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const client = await MccNode.create({ host: '127.0.0.1', bootstrap: [bootstrap] });
  await client.start();
  t.after(async () => {
    await client.stop();
    await seed.stop();
  });
  assert.equal((await client.lookup('svc', { fresh: true })).length, PROVIDERS);

  // Kill some without any withdrawal: their records stay in the DHT until they expire.
  const killed = providers.slice(0, KILLED);
  for (const { child } of killed) child.kill('SIGKILL');
  await Promise.all(
    killed.map(({ child }) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)))),
  );
  const dead = new Set(killed.map(({ id }) => id));

  const durations: number[] = [];
  const failures: string[] = [];
  for (let i = 0; i < 60; i++) {
    const started = performance.now();
    try {
      const stream = await client.connect('svc', { strategy: 'random' });
      assert.equal(await echo(stream, `ping ${i}`), `ping ${i}`);
      stream.destroy();
    } catch (error) {
      failures.push(`${i}: ${(error as Error).message}`);
    }
    durations.push(performance.now() - started);
  }
  durations.sort((a, b) => a - b);
  console.log(
    `60 connects with ${KILLED}/${PROVIDERS} providers dead: median ${durations[30].toFixed(1)} ms, max ${durations[59].toFixed(1)} ms, ${failures.length} failed`,
  );
  assert.deepEqual(failures, [], 'no connect failed while live providers remained');
  assert.equal((await client.lookup('svc')).filter((provider) => dead.has(provider.id)).length, KILLED, 'the dead providers were still listed all along');
});
