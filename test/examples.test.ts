import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const demo = fileURLToPath(new URL('../examples/demo.ts', import.meta.url));
const web = fileURLToPath(new URL('../examples/web-through-mesh.ts', import.meta.url));

test('examples/demo.ts runs as written and shows three nodes pinging each other', () => {
  const output = execFileSync(process.execPath, ['--import', 'tsx', demo], { encoding: 'utf8', timeout: 60_000 });
  assert.match(output, /A -> B: id [0-9a-f]{12}/);
  assert.match(output, /C -> A: id [0-9a-f]{12}/);
  assert.match(output, /provider B: 127\.0\.0\.1:\d+  metadata \{"lang":"en"\}/);
  assert.match(output, /C read back "a small value"/);
  assert.match(output, /A: 2 peers/);
  assert.match(output, /All nodes stopped/);
});

test('examples/web-through-mesh.ts: an HTTP request through a forwarded port reaches the web server', () => {
  const output = execFileSync(process.execPath, ['--import', 'tsx', web], { encoding: 'utf8', timeout: 60_000 });
  assert.match(output, /GET http:\/\/127\.0\.0\.1:\d+\/index\.html -> 200: hello from the web server, you asked for \/index\.html/);
});
