/**
 * Every example runs as written, as a child process, and shows what it claims. The examples
 * import the package ('mcc-mesh', resolved to dist/ through package.json "exports"), so dist/
 * is rebuilt first unless it is newer than every source file.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** True when a built file exists for every source file and each is newer than the newest source. */
function distIsCurrent(): boolean {
  const sources = (readdirSync(join(root, 'src'), { recursive: true }) as string[]).filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'));
  const newestSource = Math.max(...sources.map((path) => statSync(join(root, 'src', path)).mtimeMs));
  return sources.every((path) => {
    const built = join(root, 'dist', path.replace(/\.ts$/, '.js'));
    return existsSync(built) && statSync(built).mtimeMs > newestSource;
  });
}

before(() => {
  if (distIsCurrent()) return;
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'pipe',
    timeout: 120_000,
  });
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The children's environment: without the variable that tells a `node --test` process it runs
 * under another test runner (it would then report to that runner instead of printing TAP).
 */
const childEnv: NodeJS.ProcessEnv = { ...process.env };
delete childEnv.NODE_TEST_CONTEXT;

/** Runs a command from the repository root to its end (killed after `timeoutMs`). */
function run(command: string, args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function assertSucceeded(result: Run): void {
  assert.equal(result.code, 0, `exit ${result.code ?? result.signal}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
}

const tsx = (example: string, ...args: string[]): [string, string[]] => [process.execPath, ['--import', 'tsx', join('examples', example), ...args]];

test('examples/demo.ts: a REST lookup lists the provider, a page comes through the tunnel, every step timed', { timeout: 120_000 }, async () => {
  const result = await run(...tsx('demo.ts'), 90_000);
  assertSucceeded(result);
  const out = result.stdout;
  // Eight numbered steps, each with its duration in ms.
  for (let step = 1; step <= 8; step++) assert.match(out, new RegExp(`^ +${step}  \\S.* +\\d+ ms   \\S`, 'm'), `step ${step}\n${out}`);
  assert.match(out, /udp 127\.0\.0\.1:\d+  id [0-9a-f]{12}…/);
  assert.match(out, /record stored on \d+ nodes?/);
  assert.match(out, /GET http:\/\/127\.0\.0\.1:\d+\/v1\/services\/web\/providers → 1 provider\n/);
  assert.match(out, /provider [0-9a-f]{12}…  127\.0\.0\.1:\d+  \{"kind":"http","note":"demo"\}/);
  assert.match(out, /GET http:\/\/127\.0\.0\.1:\d+\/hello → 200\n +"hello from the provider's web server \(GET \/hello\)"/);
  assert.match(out, /20 more requests through the tunnel +\d+ ms   median \d+\.\d+ ms/);
  assert.match(out, /All nodes stopped/);
  assert.doesNotMatch(out, /Still running/);
});

test('examples/demo.ts --keep: serves the dashboard until SIGTERM, then stops cleanly within 5 s', { timeout: 120_000 }, async () => {
  const [command, args] = tsx('demo.ts', '--keep');
  const child = spawn(command, args, { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  try {
    const dashboard = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no dashboard line within 90 s\n${stdout}\n${stderr}`)), 90_000);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        const match = /dashboard {2}(http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      void exited.then(() => reject(new Error(`exited before printing the dashboard URL\n${stdout}\n${stderr}`)));
    });
    assert.match(stdout, /try +curl http:\/\/127\.0\.0\.1:\d+\/hello/);
    assert.doesNotMatch(stdout, /All nodes stopped/);

    const info = (await (await fetch(dashboard)).json()) as { id: string; running: boolean; peers: number };
    assert.match(info.id, /^[0-9a-f]{64}$/);
    assert.equal(info.running, true);
    assert.ok(info.peers >= 1, `the client knows its peers: ${JSON.stringify(info)}`);
    const page = await fetch(dashboard, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await page.text(), /<html/i);
    // Still serving: the forward answers too.
    const hello = /try +curl (http:\/\/127\.0\.0\.1:\d+\/hello)/.exec(stdout)![1];
    assert.match(await (await fetch(hello)).text(), /hello from the provider's web server/);

    const signalled = performance.now();
    child.kill('SIGTERM');
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, 5_000, 'timeout').unref());
    const outcome = await Promise.race([exited, timeout]);
    assert.notEqual(outcome, 'timeout', `still running 5 s after SIGTERM\n${stdout}\n${stderr}`);
    assert.deepEqual(outcome, { code: 0, signal: null }, `${stdout}\n${stderr}`);
    assert.ok(performance.now() - signalled < 5_000);
    assert.match(stdout, /stop everything +\d+ ms   All nodes stopped/);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  }
});

test('examples/web-through-mesh.ts: an HTTP request through a forwarded port reaches the web server', { timeout: 120_000 }, async () => {
  const result = await run(...tsx('web-through-mesh.ts'), 90_000);
  assertSucceeded(result);
  assert.match(result.stdout, /GET http:\/\/127\.0\.0\.1:\d+\/index\.html -> 200: hello from the web server, you asked for \/index\.html/);
});

test('examples/express-rest.ts: the Express app answers its own routes and the REST API under /mcc behind the token', { timeout: 120_000 }, async () => {
  const result = await run(...tsx('express-rest.ts'), 90_000);
  assertSucceeded(result);
  const out = result.stdout;
  assert.match(out, /^GET \/ -> 200 \{"app":"express-rest example","node":"[0-9a-f]{64}","services":\[\]\}$/m);
  assert.match(out, /^GET \/mcc\/v1\/node -> 401 .*"code":"ERR_UNAUTHORIZED"/m);
  assert.match(
    out,
    /^POST \/mcc\/v1\/services \(with token\) -> 201 \{"name":"shop","state":"published","target":"127\.0\.0\.1:\d+","metadata":\{"app":"express"\}/m,
  );
  assert.match(out, /^GET \/mcc\/v1\/services \(with token\) -> 200 \{"services":\[\{"name":"shop"/m);
  assert.match(
    out,
    /^GET \/mcc\/v1\/services\/shop\/providers \(with token\) -> 200 \{"name":"shop","providers":\[\{"id":"[0-9a-f]{64}","addresses":\["127\.0\.0\.1:\d+"\]/m,
  );
  assert.match(out, /^GET \/mcc\/no-such-route \(with token\) -> 404 \{"app":"express-rest example","error":"not found"\}$/m);
  assert.match(out, /^GET \/ -> 200 \{.*"services":\["shop"\]\}$/m);
  assert.match(out, /Stopped\./);
});

test('examples/testnet.ts: the node:test suite of a service on createTestnet passes', { timeout: 120_000 }, async () => {
  const result = await run(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', join('examples', 'testnet.ts')], 90_000);
  assertSucceeded(result);
  const out = result.stdout;
  assert.match(out, /^ok 1 - clients anywhere in the mesh find the key-value service and share its data$/m);
  assert.match(out, /^ok 2 - a provider that unregisters disappears from lookups at once; another one takes over$/m);
  assert.match(out, /^# pass 2$/m);
  assert.match(out, /^# fail 0$/m);
});

test('examples/curl-walkthrough.sh: two mcc daemons driven with curl; the page comes through the forward', { timeout: 120_000 }, async () => {
  assert.doesNotThrow(() => execFileSync('which', ['curl'], { stdio: 'pipe' }), 'the walk-through needs curl (.ci/run installs it)');
  const result = await run('bash', [join('examples', 'curl-walkthrough.sh')], 90_000);
  assertSucceeded(result);
  const out = result.stdout;
  assert.match(out, /^daemon A: udp 127\.0\.0\.1:\d+, rest http:\/\/127\.0\.0\.1:\d+$/m);
  assert.match(out, /^daemon B: udp 127\.0\.0\.1:\d+, rest http:\/\/127\.0\.0\.1:\d+$/m);
  assert.match(out, /^\{"name":"web","state":"published","target":"127\.0\.0\.1:\d+"/m); // registered over REST on A
  assert.match(out, /^\{"name":"web","providers":\[\{"id":"[0-9a-f]{64}".*"metadata":\{"from":"curl-walkthrough"\}/m); // looked up on B
  assert.match(out, /^\{"name":"web","host":"127\.0\.0\.1","port":\d+,"connections":0,"failed":0\}$/m); // the forward
  assert.match(out, /^hello from the web server behind daemon A \(\/hello\.html\)$/m); // through the tunnel
  assert.match(out, /^forwards +127\.0\.0\.1:\d+ -> web$/m); // mcc status
  assert.match(out, /^mcc_datagrams_in_total \d+$/m); // metrics
  assert.match(out, /^DELETE -> 204$/m);
  assert.match(out, /^\{"name":"web","providers":\[\],"nextCursor":null\}$/m); // gone at once
  assert.match(out, /All processes stopped\.\n$/);
});
