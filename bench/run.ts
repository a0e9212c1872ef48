/**
 * `npm run bench`: runs every benchmark script in turn, each in its own process so
 * one's heap and JIT state do not colour the next. `npm run bench -- crypto session`
 * runs only the named ones.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ALL = ['crypto', 'codec', 'session', 'lookup', 'discovery', 'tunnel', 'http-forward', 'nat', 'nat-relay', 'lan', 'flood'];
const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : ALL;
let failed = 0;
for (const name of names) {
  const script = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  if (!existsSync(script)) {
    if (wanted.length > 0) console.error(`bench: no benchmark named "${name}"`);
    continue;
  }
  console.log(`\n=== bench/${name}.ts ===`);
  const result = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', script], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exitCode = failed > 0 ? 1 : 0;
