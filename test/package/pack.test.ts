import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('the packed tarball installs and imports as a new user would (exports, types, files, bin, crypto suite)', { timeout: 240_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mcc-pack-'));
  try {
    // Build fresh so the tarball reflects the sources under test.
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'pipe' });
    const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' });
    const [info] = JSON.parse(packed) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const paths = info.files.map((file) => file.path);
    assert.ok(paths.includes('dist/index.js') && paths.includes('dist/index.d.ts'));
    assert.ok(paths.includes('dist/rest/index.js') && paths.includes('dist/cli/mcc.js'));
    assert.ok(!paths.some((path) => path.startsWith('src/') || path.startsWith('test/')), 'sources and tests stay out of the package');

    const app = join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, info.filename)], { cwd: app, stdio: 'pipe' });
    writeFileSync(
      join(app, 'main.mjs'),
      `import { MccNode, MccError } from 'mcc-mesh';
import { createRestHandler } from 'mcc-mesh/rest';
const node = await MccNode.create({ host: '127.0.0.1' });
await node.start();
const handler = createRestHandler(node);
if (typeof handler !== 'function' || typeof MccError !== 'function') throw new Error('bad exports');
console.log('ok', node.idHex.length, node.stats().crypto);
await node.stop();
`,
    );
    // sodium-native is an optional dependency: a plain install brings it where a prebuild
    // exists for the platform (and 'auto' then runs on it), and the node suite otherwise.
    const sodiumInstalled = existsSync(join(app, 'node_modules', 'sodium-native', 'package.json'));
    const [ok, idLength, suite] = execFileSync(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8' }).trim().split(' ');
    assert.deepEqual([ok, idLength], ['ok', '64']);
    t.diagnostic(`after a plain npm install: sodium-native ${sodiumInstalled ? 'installed' : 'not installed'}, crypto suite chosen: ${suite}`);
    if (sodiumInstalled) assert.ok(suite === 'sodium' || suite === 'node', suite);
    else assert.equal(suite, 'node');
    // Types resolve for TypeScript users through "exports", check with skipLibCheck off, and hide internals.
    const types = readdirSync(join(app, 'node_modules', 'mcc-mesh', 'dist', 'rest'));
    assert.ok(types.includes('index.d.ts'));
    writeFileSync(
      join(app, 'main.ts'),
      `import { MccNode, type Forward, type NatMapping, type ConnectCounts } from 'mcc-mesh';
import { createRestHandler, type NodeInfo } from 'mcc-mesh/rest';
const node: MccNode = await MccNode.create({ host: '127.0.0.1' });
const mapping: NatMapping = node.stats().nat.mapping;
const counts: ConnectCounts = node.stats().nat.connects;
const info: NodeInfo | undefined = undefined;
let forward: Forward | undefined;
void [createRestHandler, mapping, counts, info, forward];
// @ts-expect-error internals are not part of the published types
void node.kad;
`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          types: ['node'],
          typeRoots: [join(root, 'node_modules', '@types')],
        },
        files: ['main.ts'],
      }),
    );
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], { cwd: app, encoding: 'utf8' });
    // The bin is installed and answers --help.
    const help = execFileSync(join(app, 'node_modules', '.bin', 'mcc'), ['--help'], { encoding: 'utf8' });
    assert.match(help, /mcc start/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
