import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { restRoutes } from '../../src/rest/index.js';

test('docs/rest.md lists every route of the table, and no route the table lacks', () => {
  const text = readFileSync(new URL('../../docs/rest.md', import.meta.url), 'utf8');
  const documented = [...text.matchAll(/^\| `(GET|POST|DELETE) ([^`]+)` \|/gm)].map((match) => `${match[1]} ${match[2]}`).sort();
  assert.deepEqual(
    documented,
    restRoutes()
      .map((route) => `${route.method} ${route.path}`)
      .sort(),
  );
});
