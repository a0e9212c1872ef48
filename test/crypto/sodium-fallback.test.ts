/**
 * A machine without sodium-native: in a child process whose module resolution refuses
 * `sodium-native` (a loader hook, as when the optional dependency is not installed),
 * `'auto'` settles on the node suite and two nodes still exchange sealed datagrams and a
 * tunnel stream, while `'sodium'` is an ERR_INVALID_ARGUMENT naming `crypto` that says why.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

interface ChildResult {
  available: string[];
  sodium: { code: string; argument: string; message: string } | string;
  auto: string[];
  ping: boolean;
  echo: boolean;
}

test('without sodium-native: auto falls back to node and works; sodium is ERR_INVALID_ARGUMENT with the reason', { timeout: 120_000 }, async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--import', fixture('block-sodium.js'), fixture('without-sodium.ts')], {
    timeout: 100_000,
    env: { ...process.env, MCC_LOG: '' },
  });
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult;
  assert.deepEqual(result.available, ['node', 'noble']);
  assert.deepEqual(result.auto, ['node', 'node']);
  assert.equal(typeof result.sodium, 'object', `crypto: 'sodium' must fail here, got ${JSON.stringify(result.sodium)}`);
  const failure = result.sodium as Exclude<ChildResult['sodium'], string>;
  assert.equal(failure.code, 'ERR_INVALID_ARGUMENT');
  assert.equal(failure.argument, 'crypto');
  assert.match(failure.message, /^invalid argument "crypto": .*sodium-native.*Cannot find package 'sodium-native'/);
  assert.equal(result.ping, true, 'sealed ping answered');
  assert.equal(result.echo, true, 'tunnel stream echoed byte for byte');
});
