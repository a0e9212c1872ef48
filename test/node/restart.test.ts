/**
 * Instant restart: a provider process with a data directory is killed with SIGKILL (no
 * withdrawal, no save on stop) and started again on the same directory with no bootstrap
 * node and no register() call. Right after start() it keeps its ID and port, its lookups
 * work, and its TCP service is served to a client that has never met it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MccNode, formatAddress } from '../../src/index.js';

const child = fileURLToPath(new URL('./restart-child.ts', import.meta.url));

/** Starts the child; resolves with the first JSON line that has `key`. */
function run<T>(args: string[], key: string): { process: ChildProcess; line: Promise<T> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const line = new Promise<T>((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const text of out.split('\n')) {
        if (!text.startsWith('{')) continue;
        const value = JSON.parse(text) as Record<string, T>;
        if (key in value) resolve(value[key]);
      }
    });
    proc.once('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}) before "${key}": ${err.slice(-2000)}`)));
  });
  return { process: proc, line };
}

function kill(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}

async function echo(node: MccNode, name: string, text: string): Promise<string> {
  const stream = await node.connect(name);
  stream.end(text);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

interface Restarted {
  id: string;
  port: number;
  startMs: number;
  rpcDuringStart: number;
  lookupMs: number;
  providers: Array<{ id: string; metadata: unknown }>;
  registrations: Array<{ name: string; target: { kind: string; port?: number } }>;
}

test(
  'a provider killed with SIGKILL and restarted on its data directory serves and looks up right after start(), with no bootstrap',
  { timeout: 60_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'mcc-restart-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const tcp: Server = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    t.after(() => tcp.close());
    const tcpPort = (tcp.address() as { port: number }).port;
    const seed = await MccNode.create({ host: '127.0.0.1', lan: false });
    await seed.start();
    t.after(() => seed.stop());

    const first = run<{ id: string; port: number }>(['first', dir, formatAddress(seed.address), String(tcpPort)], 'ready');
    t.after(() => kill(first.process));
    const ready = await first.line;
    assert.equal((await seed.lookup('web', { fresh: true })).length, 1);
    assert.equal(await echo(seed, 'web', 'before the crash'), 'before the crash');
    for (const file of ['identity.json', 'node.json', 'routing.json']) {
      assert.equal(statSync(join(dir, file)).mode & 0o777, 0o600, `${file} is private`);
    }
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    await kill(first.process);

    const again = run<Restarted>(['again', dir], 'restarted');
    t.after(() => kill(again.process));
    const restarted = await again.line;
    t.diagnostic(
      `restart: start() ${restarted.startMs.toFixed(0)} ms with ${restarted.rpcDuringStart} requests sent, first lookup ${restarted.lookupMs.toFixed(0)} ms (loaded 2-core machine)`,
    );
    assert.equal(restarted.id, ready.id, 'same identity');
    assert.equal(restarted.port, ready.port, 'same UDP port: peers and records still point at it');
    assert.deepEqual(
      restarted.registrations,
      [{ name: 'web', target: { kind: 'tcp', host: '127.0.0.1', port: tcpPort } }],
      'registration restored without register()',
    );
    assert.ok(
      restarted.providers.some((provider) => provider.id === ready.id),
      'its lookup right after start() finds the service (through the saved routing table)',
    );
    assert.deepEqual(restarted.providers.find((provider) => provider.id === ready.id)!.metadata, { v: 1 });

    // A client that never met the provider, joining through the seed only.
    const client = await MccNode.create({ host: '127.0.0.1', lan: false, bootstrap: [seed.address] });
    await client.start();
    t.after(() => client.stop());
    assert.equal(await echo(client, 'web', 'through the restarted provider'), 'through the restarted provider');
    // The seed's tunnel connection belongs to the killed process: the new one answers the next connect.
    assert.equal(await echo(seed, 'web', 'after the crash'), 'after the crash');
  },
);
