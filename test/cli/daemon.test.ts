import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MccNode } from '../../src/index.js';
import { exitWithin, runMcc, startMcc, tempDir, testEnv } from './helpers.js';

async function seedNode(t: { after: (fn: () => unknown) => void }): Promise<MccNode> {
  const seed = await MccNode.create({ host: '127.0.0.1' });
  await seed.start();
  t.after(() => seed.stop());
  return seed;
}

async function httpServer(t: { after: (fn: () => unknown) => void }, body: string): Promise<number> {
  const server = createServer((_request, response) => response.end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  );
  return (server.address() as { port: number }).port;
}

test('mcc start --expose on one daemon and --forward on another: a real HTTP page through the mesh', async (t) => {
  const seed = await seedNode(t);
  const bootstrap = `127.0.0.1:${seed.address.port}`;
  const httpPort = await httpServer(t, 'hello through the mesh');
  // The forward starts first: its service has no provider yet, and it listens anyway.
  const client = await startMcc(t, ['--host', '127.0.0.1', '--bootstrap', bootstrap, '--forward', 'web=0', '--rest', '127.0.0.1:0'], {
    env: testEnv(tempDir(t)),
  });
  const forwardPort = Number(/forwarding 127\.0\.0\.1:(\d+) -> web/.exec(client.output())?.[1]);
  assert.ok(forwardPort > 0, client.output());
  const provider = await startMcc(t, ['--host', '127.0.0.1', '--bootstrap', bootstrap, '--expose', `web=127.0.0.1:${httpPort}`, '--no-rest'], {
    env: testEnv(tempDir(t)),
    ready: /exposing web -> 127\.0\.0\.1:\d+/,
  });
  assert.match(provider.output(), new RegExp(`exposing web -> 127\\.0\\.0\\.1:${httpPort} \\(stored on \\d+ nodes?\\)`));

  let page = '';
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    page = await fetch(`http://127.0.0.1:${forwardPort}/`, { signal: AbortSignal.timeout(5_000) }).then(
      (response) => response.text(),
      () => '',
    );
    if (page) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.equal(page, 'hello through the mesh', `${client.output()}\n${provider.output()}`);

  // SIGTERM withdraws the record: lookups stop finding the provider at once.
  assert.equal((await seed.lookup('web', { fresh: true })).length, 1);
  provider.child.kill('SIGTERM');
  assert.equal(await exitWithin(provider, 5_000), 0, provider.output());
  assert.equal((await seed.lookup('web', { fresh: true })).length, 0, 'withdrawn on stop');
  client.child.kill('SIGTERM');
  assert.equal(await exitWithin(client, 5_000), 0, client.output());
});

test('mcc start takes its settings from a config file and MCC_* variables (command line > environment > file)', async (t) => {
  const seed = await seedNode(t);
  const dir = tempDir(t);
  const httpPort = await httpServer(t, 'x');
  const file = join(dir, 'mcc.json');
  writeFileSync(
    file,
    JSON.stringify({
      host: '127.0.0.1',
      bootstrap: [`127.0.0.1:${seed.address.port}`],
      expose: [`web=127.0.0.1:${httpPort}`, `api=${httpPort}`],
      forward: ['web=0'],
      rest: '127.0.0.1:1',
    }),
  );
  const daemon = await startMcc(t, ['--forward', 'other=0'], {
    env: testEnv(dir, { MCC_CONFIG: file, MCC_REST: '127.0.0.1:0', MCC_EXPOSE: `env=127.0.0.1:${httpPort}` }),
  });
  const output = daemon.output();
  assert.ok(daemon.url, output);
  assert.match(output, /listening on udp 127\.0\.0\.1:\d+/, 'host from the file');
  assert.match(output, /exposing env -> /, "MCC_EXPOSE replaces the file's expose");
  assert.doesNotMatch(output, /exposing web/);
  assert.match(output, /forwarding 127\.0\.0\.1:\d+ -> other/, "--forward replaces the file's forward");
  assert.doesNotMatch(output, /-> web/);
  const info = (await (await fetch(`${daemon.url}/v1/node`)).json()) as { peers: number };
  assert.ok(info.peers >= 1, 'joined through the bootstrap node of the file');
  daemon.child.kill('SIGTERM');
  assert.equal(await exitWithin(daemon, 5_000), 0);
});

test('mcc start refuses a non-loopback REST address without a token (exit 2) before opening anything', async (t) => {
  const dir = tempDir(t);
  const run = await runMcc(['start', '--host', '127.0.0.1', '--rest', '0.0.0.0:0'], testEnv(dir));
  assert.equal(run.code, 2);
  assert.match(run.stderr, /mcc start: --rest: refusing to serve the REST API on 0\.0\.0\.0 without a token/);
  assert.ok(!existsSync(join(dir, 'identity.json')), 'nothing created');
  const env = await runMcc(['start', '--host', '127.0.0.1'], testEnv(dir, { MCC_REST: '[::]:0' }));
  assert.equal(env.code, 2);
  assert.match(env.stderr, /MCC_REST: refusing/);
});

test('the identity persists in the config dir: a restarted daemon keeps its ID; SIGTERM removes daemon.json within 5 s', async (t) => {
  const dir = tempDir(t);
  const first = await startMcc(t, ['--host', '127.0.0.1', '--rest', '127.0.0.1:0'], { env: testEnv(dir) });
  const id = /node ([0-9a-f]{64})/.exec(first.output())?.[1];
  assert.ok(id, first.output());
  assert.equal(statSync(join(dir, 'identity.json')).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const daemonFile = JSON.parse((await import('node:fs')).readFileSync(join(dir, 'daemon.json'), 'utf8')) as { url: string; pid: number; token: string | null };
  assert.deepEqual(daemonFile, { url: first.url, token: null, pid: first.child.pid });
  assert.equal(statSync(join(dir, 'daemon.json')).mode & 0o777, 0o600);

  // A second daemon on the same config dir is refused while the first answers.
  const second = await runMcc(['start', '--host', '127.0.0.1', '--rest', '127.0.0.1:0'], testEnv(dir));
  assert.equal(second.code, 1);
  assert.match(second.stderr, /a daemon is already running/);

  const started = Date.now();
  first.child.kill('SIGTERM');
  assert.equal(await exitWithin(first, 5_000), 0, first.output());
  assert.ok(Date.now() - started < 5_000);
  assert.ok(!existsSync(join(dir, 'daemon.json')), 'daemon.json removed on exit');

  const again = await startMcc(t, ['--host', '127.0.0.1', '--rest', '127.0.0.1:0'], { env: testEnv(dir) });
  assert.equal(/node ([0-9a-f]{64})/.exec(again.output())?.[1], id, 'same ID after restart');
  again.child.kill('SIGINT');
  assert.equal(await exitWithin(again, 5_000), 0);
});

test('after SIGKILL the stale daemon.json is detected: mcc status exits 1 saying the daemon is not running', async (t) => {
  const dir = tempDir(t);
  const daemon = await startMcc(t, ['--host', '127.0.0.1', '--rest', '127.0.0.1:0'], { env: testEnv(dir) });
  assert.ok(daemon.url, daemon.output());
  daemon.child.kill('SIGKILL');
  await daemon.exited;
  assert.ok(existsSync(join(dir, 'daemon.json')), 'SIGKILL leaves it behind');
  const status = await runMcc(['status'], testEnv(dir));
  assert.equal(status.code, 1);
  assert.match(
    status.stderr,
    /^mcc status: the daemon is not running: nothing answers at http:\/\/127\.0\.0\.1:\d+ \(.*daemon\.json is stale: pid \d+ is gone\); start it with "mcc start"\n$/,
  );
  // And a new daemon starts over the stale file.
  const next = await startMcc(t, ['--host', '127.0.0.1', '--rest', '127.0.0.1:0'], { env: testEnv(dir) });
  assert.ok(next.url, next.output());
  next.child.kill('SIGTERM');
  assert.equal(await exitWithin(next, 5_000), 0);
});
