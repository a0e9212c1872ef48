import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateWireSources } from '../../scripts/gen-proto.js';

test('committed generated wire code matches proto/mcc.proto (run `npm run proto` if this fails)', async () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const files = await generateWireSources();
  assert.ok(files.size >= 2);
  for (const [path, expected] of files) {
    const actual = readFileSync(join(root, path), 'utf8');
    assert.ok(actual === expected, `${path} is stale relative to proto/mcc.proto: run \`npm run proto\``);
  }
});
