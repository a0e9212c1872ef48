import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MccNode } from '../../src/index.js';
import { exitWithin, freePort, runMcc, startMcc, tempDir, testEnv } from './helpers.js';

const TOKEN = 'test-token-0123';

test('every client command against a running daemon: human and --json output, exit codes 0/1/2, --help', async (t) => {
  const seed = await MccNode.create({ host: '127.0.0.1' });
  await seed.start();
  t.after(() => seed.stop());
  const server = createServer((_request, response) => response.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const httpPort = (server.address() as { port: number }).port;

  const dir = tempDir(t);
  const env = testEnv(dir);
  const daemon = await startMcc(t, ['--host', '127.0.0.1', '--bootstrap', `127.0.0.1:${seed.address.port}`, '--rest', '127.0.0.1:0', '--token', TOKEN], {
    env,
  });
  const id = /node ([0-9a-f]{64})/.exec(daemon.output())?.[1];
  assert.ok(id && daemon.url, daemon.output());
  assert.equal(JSON.parse(readFileSync(join(dir, 'daemon.json'), 'utf8')).token, TOKEN);

  // Read-only commands, found through daemon.json (URL and token).
  const [status, statusJson, idRun, idJson, peers, peersJson] = await Promise.all([
    runMcc(['status'], env),
    runMcc(['status', '--json'], env),
    runMcc(['id'], env),
    runMcc(['id', '--json'], env),
    runMcc(['peers'], env),
    runMcc(['peers', '--json'], env),
  ]);
  for (const run of [status, statusJson, idRun, idJson, peers, peersJson]) assert.equal(run.code, 0, run.stderr);
  assert.match(status.stdout, new RegExp(`^id +${id}$`, 'm'));
  assert.match(status.stdout, /^address +127\.0\.0\.1:\d+$/m);
  assert.match(status.stdout, /^peers +[1-9]\d*$/m);
  assert.match(status.stdout, /^crypto +(sodium|node)$/m); // the default suite, auto: sodium where sodium-native loads
  assert.match(status.stdout, /^services +-$/m);
  assert.equal((JSON.parse(statusJson.stdout) as { id: string }).id, id);
  assert.equal(idRun.stdout, `${id}\n`);
  assert.equal((JSON.parse(idJson.stdout) as { id: string }).id, id);
  assert.match(peers.stdout, /^ID +ADDRESS +RTT$/m);
  assert.ok(peers.stdout.includes(seed.idHex), peers.stdout);
  assert.ok((JSON.parse(peersJson.stdout) as { peers: Array<{ id: string }> }).peers.some((peer) => peer.id === seed.idHex));

  // expose, lookup, unexpose
  const expose = await runMcc(['expose', 'web', `127.0.0.1:${httpPort}`, '--metadata', '{"region":"eu"}', '--ttl', '60000'], env);
  assert.equal(expose.code, 0, expose.stderr);
  assert.match(expose.stdout, new RegExp(`^exposing web -> 127\\.0\\.0\\.1:${httpPort} \\(stored on \\d+ nodes?\\)\\n$`));
  const [lookup, lookupJson, statusAfter] = await Promise.all([
    runMcc(['lookup', 'web'], env),
    runMcc(['lookup', 'web', '--json'], env),
    runMcc(['status'], env),
  ]);
  assert.equal(lookup.code, 0, lookup.stderr);
  assert.match(lookup.stdout, /^ID +ADDRESSES +RTT +METADATA$/m);
  assert.match(lookup.stdout, new RegExp(`^${id} +127\\.0\\.0\\.1:\\d+ +\\S+( ms)? +\\{"region":"eu"\\}$`, 'm'));
  const page = JSON.parse(lookupJson.stdout) as { name: string; providers: Array<{ id: string; metadata: unknown }>; nextCursor: null };
  assert.equal(page.name, 'web');
  assert.deepEqual(
    page.providers.map((p) => [p.id, p.metadata]),
    [[id, { region: 'eu' }]],
  );
  assert.match(statusAfter.stdout, new RegExp(`^services +web -> 127\\.0\\.0\\.1:${httpPort} \\(\\w+\\)$`, 'm'));
  const unexpose = await runMcc(['unexpose', 'web'], env);
  assert.equal(unexpose.code, 0, unexpose.stderr);
  assert.equal(unexpose.stdout, 'withdrew web\n');
  const [again, none] = await Promise.all([runMcc(['unexpose', 'web'], env), runMcc(['lookup', 'web'], env)]);
  assert.equal(again.code, 1);
  assert.equal(again.stderr, 'mcc unexpose: "web" is not registered on this node\n', 'the problem detail');
  assert.equal(none.code, 0);
  assert.equal(none.stdout, 'no providers of web\n');

  // forward, unforward
  const forward = await runMcc(['forward', 'web', '0', '--json'], env);
  assert.equal(forward.code, 0, forward.stderr);
  const forwardJson = JSON.parse(forward.stdout) as { name: string; host: string; port: number };
  assert.equal(forwardJson.name, 'web');
  assert.equal(forwardJson.host, '127.0.0.1');
  assert.ok(forwardJson.port > 0);
  const port = await freePort();
  const forwardHuman = await runMcc(['forward', 'web', `127.0.0.1:${port}`], env);
  assert.equal(forwardHuman.stdout, `forwarding 127.0.0.1:${port} -> web\n`, forwardHuman.stderr);
  const [unforward, unforwardJson] = await Promise.all([
    runMcc(['unforward', String(port)], env),
    runMcc(['unforward', String(forwardJson.port), '--json'], env),
  ]);
  assert.equal(unforward.code, 0, unforward.stderr);
  assert.equal(unforward.stdout, `stopped the forward on port ${port}\n`);
  assert.deepEqual(JSON.parse(unforwardJson.stdout), { port: forwardJson.port, removed: true });
  const unforwardAgain = await runMcc(['unforward', String(port)], env);
  assert.equal(unforwardAgain.code, 1);
  assert.match(unforwardAgain.stderr, /^mcc unforward: .*port/);

  // usage errors (2), token errors (1), --help (0)
  const usage = await Promise.all([
    runMcc(['expose', 'web', 'nope'], env),
    runMcc(['expose', 'web', '80', '--metadata', '[1]'], env),
    runMcc(['expose', 'web', '80', '--ttl', '5'], env),
    runMcc(['lookup'], env),
    runMcc(['unforward', 'x'], env),
    runMcc(['peers', '--bogus'], env),
  ]);
  for (const run of usage) assert.equal(run.code, 2, run.stderr);
  assert.equal(usage[0].stderr, 'mcc expose: HOST:PORT: "nope" is not HOST:PORT or PORT (see mcc expose --help)\n');
  assert.match(usage[1].stderr, /^mcc expose: --metadata: expected a JSON object/);
  assert.match(usage[2].stderr, /^mcc expose: --ttl: "5" is not a lifetime in ms/);
  assert.equal(usage[3].stderr, 'mcc lookup: missing NAME (see mcc lookup --help)\n');
  assert.match(usage[4].stderr, /^mcc unforward: PORT: "x" is not a port number/);
  assert.equal(usage[5].stderr, 'mcc peers: unknown option --bogus (see mcc peers --help)\n');
  const [wrongToken, noToken] = await Promise.all([
    runMcc(['status', '--token', 'wrong-token-1'], env),
    runMcc(['status', '--rest', daemon.url, '--config-dir', join(dir, 'elsewhere')], env),
  ]);
  assert.equal(wrongToken.code, 1);
  assert.match(wrongToken.stderr, /^mcc status: .*token/);
  assert.equal(noToken.code, 1);
  assert.match(noToken.stderr, /^mcc status: .*(pass --token or set MCC_TOKEN)/);
  const withEnv = await runMcc(['id'], { ...testEnv(join(dir, 'elsewhere')), MCC_REST: daemon.url, MCC_TOKEN: TOKEN });
  assert.equal(withEnv.stdout, `${id}\n`, withEnv.stderr);
  const helps = await Promise.all(
    ['status', 'id', 'lookup', 'expose', 'unexpose', 'forward', 'unforward', 'peers', 'start'].map((command) => runMcc([command, '--help'], env)),
  );
  for (const help of helps) {
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^mcc \w+ - /);
    assert.match(help.stdout, /Usage:/);
  }

  daemon.child.kill('SIGTERM');
  assert.equal(await exitWithin(daemon, 5_000), 0, daemon.output());
});

test('client commands without a daemon exit 1 and say how to start one', async (t) => {
  const dir = tempDir(t);
  const [status, lookup, viaRest] = await Promise.all([
    runMcc(['status'], testEnv(dir)),
    runMcc(['lookup', 'web', '--json'], testEnv(dir)),
    runMcc(['peers'], testEnv(dir, { MCC_REST: `127.0.0.1:${await freePort()}` })),
  ]);
  assert.equal(status.code, 1);
  assert.equal(
    status.stderr,
    `mcc status: the daemon is not running (no ${join(dir, 'daemon.json')}); start it with "mcc start", or point --rest / MCC_REST at its REST API\n`,
  );
  assert.equal(status.stdout, '');
  assert.equal(lookup.code, 1);
  assert.match(lookup.stderr, /^mcc lookup: the daemon is not running/);
  assert.equal(viaRest.code, 1);
  assert.match(viaRest.stderr, /^mcc peers: the daemon is not running: nothing answers at http:\/\/127\.0\.0\.1:\d+; start it with "mcc start"\n$/);
});
