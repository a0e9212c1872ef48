import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { UsageError, parseCommand, parseExpose, parseForward, parseRestListen, parseHostPort, isLoopbackHost } from '../../src/cli/args.js';
import { configDir, readDaemonFile, removeDaemonFile, resolveStartOptions, writeDaemonFile } from '../../src/cli/config.js';
import { findDaemon, table } from '../../src/cli/client.js';
import { helpText } from '../../src/cli/help.js';
import { tempDir } from './helpers.js';

const flags = (argv: string[]) => {
  const command = parseCommand(['start', ...argv]);
  assert.equal(command.command, 'start');
  return command.flags;
};

function usage(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => error instanceof UsageError && message.test(error.message));
}

test('parseCommand: commands, help topics, positionals and rewritten parseArgs errors', () => {
  assert.deepEqual(parseCommand([]), { command: 'help' });
  assert.deepEqual(parseCommand(['--version']), { command: 'version' });
  assert.deepEqual(parseCommand(['help', 'expose']), { command: 'help', topic: 'expose' });
  assert.deepEqual(parseCommand(['lookup', '--help']), { command: 'help', topic: 'lookup' });
  const expose = parseCommand(['expose', 'web', '127.0.0.1:80', '--metadata', '{"a":1}', '--ttl', '60000', '--visibility', 'org', '--json']);
  assert.deepEqual(expose, {
    command: 'expose',
    args: ['web', '127.0.0.1:80'],
    flags: { json: true, rest: undefined, token: undefined, configDir: undefined, metadata: '{"a":1}', ttl: '60000', visibility: 'org' },
  });
  assert.deepEqual(flags(['-e', 'a=1', '--expose', 'b=2', '--no-rest']).expose, ['a=1', 'b=2']);
  usage(() => parseCommand(['start', '--foo']), /^unknown option --foo$/);
  usage(() => parseCommand(['start', '--foo=3']), /^unknown option --foo$/);
  usage(() => parseCommand(['start', '-p']), /^option --port needs a value$/);
  usage(() => parseCommand(['status', '--json=1']), /^option --json takes no value$/);
  usage(() => parseCommand(['status', '--metadata', '{}']), /^unknown option --metadata$/);
  usage(() => parseCommand(['lookup']), /^missing NAME$/);
  usage(() => parseCommand(['forward', 'web']), /^missing PORT$/);
  usage(() => parseCommand(['id', 'extra']), /^unexpected argument "extra"$/);
  usage(() => parseCommand(['start', 'extra']), /^unexpected argument "extra"$/);
  usage(() => parseCommand(['nope']), /^unknown command "nope"$/);
  usage(() => parseCommand(['--port', '3']), /unknown option --port/);
});

test('value parsers: NAME=HOST:PORT, NAME=PORT, rest listen addresses, loopback', () => {
  assert.deepEqual(parseExpose('web=127.0.0.1:8080', '--expose'), { name: 'web', host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseExpose('web=8080', '--expose'), { name: 'web', host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseExpose('a=b=[::1]:9', '--expose'), { name: 'a=b', host: '::1', port: 9 });
  assert.deepEqual(parseForward('web=0', '--forward'), { name: 'web', host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseForward('web=0.0.0.0:9000', '--forward'), { name: 'web', host: '0.0.0.0', port: 9000 });
  usage(() => parseExpose('web=0', '--expose'), /^--expose: "0" is not a port number/);
  usage(() => parseExpose('=1', '--expose'), /^--expose: "=1" is not NAME=HOST:PORT$/);
  usage(() => parseForward('web=x:y', 'MCC_FORWARD'), /^MCC_FORWARD: "x:y" is not HOST:PORT or PORT$/);
  usage(() => parseForward(`${'n'.repeat(300)}=1`, '--forward'), /^--forward: service name must be at most 255 bytes/);
  assert.equal(parseRestListen('off', '--rest'), 'off');
  assert.deepEqual(parseRestListen('http://localhost:0/', '--rest'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseHostPort('[::1]:7700', 'x'), { host: '::1', port: 7700 });
  usage(() => parseHostPort('127.0.0.1:70000', '--bootstrap'), /^--bootstrap: "70000" is not a port number/);
  assert.ok(isLoopbackHost('127.0.0.1') && isLoopbackHost('127.1.2.3') && isLoopbackHost('::1'));
  assert.ok(!isLoopbackHost('0.0.0.0') && !isLoopbackHost('::') && !isLoopbackHost('192.168.1.2'));
});

test('config dir: --config-dir, MCC_CONFIG_DIR, XDG_CONFIG_HOME, ~/.config', () => {
  assert.equal(configDir('/x/flag', { MCC_CONFIG_DIR: '/x/env' }, 'linux'), '/x/flag');
  assert.equal(configDir(undefined, { MCC_CONFIG_DIR: '/x/env', XDG_CONFIG_HOME: '/x/xdg' }, 'linux'), '/x/env');
  assert.equal(configDir(undefined, { XDG_CONFIG_HOME: '/x/xdg' }, 'linux'), '/x/xdg/mcc');
  assert.equal(configDir(undefined, {}, 'linux'), join(homedir(), '.config', 'mcc'));
});

test('resolveStartOptions: command line > environment > config file > defaults', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'mcc.json');
  writeFileSync(
    file,
    JSON.stringify({
      port: 4100,
      host: '127.0.0.1',
      bootstrap: ['127.0.0.1:4000'],
      expose: ['web=127.0.0.1:8080'],
      forward: ['web=9000'],
      rest: '127.0.0.1:7701',
      token: 'file-token-123',
    }),
  );
  const defaults = resolveStartOptions(flags([]), { MCC_CONFIG_DIR: dir });
  assert.deepEqual(defaults, {
    configDir: dir,
    host: undefined,
    port: 0,
    bootstrap: [],
    identity: join(dir, 'identity.json'),
    rest: { host: '127.0.0.1', port: 7700 },
    token: undefined,
    expose: [],
    forward: [],
    credential: undefined,
    trust: [],
  });

  const fromFile = resolveStartOptions(flags(['--config', file]), { MCC_CONFIG_DIR: dir });
  assert.equal(fromFile.port, 4100);
  assert.deepEqual(fromFile.bootstrap, ['127.0.0.1:4000']);
  assert.deepEqual(fromFile.expose, [{ name: 'web', host: '127.0.0.1', port: 8080 }]);
  assert.deepEqual(fromFile.forward, [{ name: 'web', host: '127.0.0.1', port: 9000 }]);
  assert.deepEqual(fromFile.rest, { host: '127.0.0.1', port: 7701 });
  assert.equal(fromFile.token, 'file-token-123');

  const env = {
    MCC_CONFIG_DIR: dir,
    MCC_CONFIG: file,
    MCC_PORT: '4200',
    MCC_BOOTSTRAP: '127.0.0.1:1, 127.0.0.1:2',
    MCC_EXPOSE: 'a=1,b=2',
    MCC_REST: 'off',
    MCC_TOKEN: 'env-token-123',
    MCC_IDENTITY: join(dir, 'id.json'),
  };
  const fromEnv = resolveStartOptions(flags([]), env);
  assert.equal(fromEnv.port, 4200);
  assert.deepEqual(fromEnv.bootstrap, ['127.0.0.1:1', '127.0.0.1:2']);
  assert.deepEqual(
    fromEnv.expose.map((e) => e.name),
    ['a', 'b'],
  );
  assert.deepEqual(fromEnv.forward, [{ name: 'web', host: '127.0.0.1', port: 9000 }], 'not in env: the file still applies');
  assert.equal(fromEnv.rest, null);
  assert.equal(fromEnv.token, 'env-token-123');
  assert.equal(fromEnv.identity, join(dir, 'id.json'));

  const fromFlags = resolveStartOptions(flags(['--port', '4300', '--expose', 'c=3', '--rest', '127.0.0.1:0', '--token', 'flag-token-1']), env);
  assert.equal(fromFlags.port, 4300);
  assert.deepEqual(
    fromFlags.expose.map((e) => e.name),
    ['c'],
    'a repeatable option on the command line replaces the others',
  );
  assert.deepEqual(fromFlags.rest, { host: '127.0.0.1', port: 0 });
  assert.equal(fromFlags.token, 'flag-token-1');
  assert.equal(resolveStartOptions(flags(['--no-rest']), { MCC_CONFIG_DIR: dir, MCC_REST: '127.0.0.1:1' }).rest, null);

  // <configDir>/config.json is read when present
  const other = join(dir, 'other');
  mkdirSync(other);
  writeFileSync(join(other, 'config.json'), '{"port":"4400"}');
  assert.equal(resolveStartOptions(flags([]), { MCC_CONFIG_DIR: other }).port, 4400);
});

test('resolveStartOptions refuses bad settings with messages naming their source', (t) => {
  const dir = tempDir(t);
  const env = { MCC_CONFIG_DIR: dir };
  usage(() => resolveStartOptions(flags(['--rest', '0.0.0.0:7700']), env), /^--rest: refusing to serve the REST API on 0\.0\.0\.0 without a token/);
  usage(() => resolveStartOptions(flags([]), { ...env, MCC_REST: '192.0.2.1:7700' }), /^MCC_REST: refusing/);
  assert.deepEqual(resolveStartOptions(flags(['--rest', '0.0.0.0:7700', '--token', 'long-enough']), env).rest, { host: '0.0.0.0', port: 7700 });
  usage(() => resolveStartOptions(flags(['--token', 'short']), env), /^--token: the token must be at least 8 characters$/);
  usage(() => resolveStartOptions(flags([]), { ...env, MCC_PORT: 'abc' }), /^MCC_PORT: "abc" is not a port number/);
  usage(() => resolveStartOptions(flags(['--expose', 'a=1', '--expose', 'a=2']), env), /^--expose: service "a" given twice$/);
  usage(() => resolveStartOptions(flags(['--config', join(dir, 'missing.json')]), env), /^config file .*missing\.json: cannot read it \(ENOENT\)$/);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"port": 1, "colour": "blue"}');
  usage(() => resolveStartOptions(flags(['--config', bad]), env), /unknown key "colour"/);
  writeFileSync(bad, '{"bootstrap": 7}');
  usage(() => resolveStartOptions(flags(['--config', bad]), env), /"bootstrap" has the wrong type \(expected an array of strings\)/);
  writeFileSync(bad, '{"forward": ["web=x"]}');
  usage(() => resolveStartOptions(flags(['--config', bad]), env), /^config file .*bad\.json: "forward": "x" is not HOST:PORT or PORT$/);
  writeFileSync(bad, '{oops');
  usage(() => resolveStartOptions(flags(['--config', bad]), env), /not valid JSON/);
});

test('daemon.json: written with mode 0600, read back, removed only by its own pid; client commands find it', (t) => {
  const dir = join(tempDir(t), 'nested');
  writeDaemonFile(dir, { url: 'http://127.0.0.1:7700', token: 'tok-tok-tok', pid: 424242 });
  assert.equal(statSync(join(dir, 'daemon.json')).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.deepEqual(readDaemonFile(dir), { url: 'http://127.0.0.1:7700', token: 'tok-tok-tok', pid: 424242 });
  assert.deepEqual(findDaemon({ json: false }, { MCC_CONFIG_DIR: dir }), {
    url: 'http://127.0.0.1:7700',
    token: 'tok-tok-tok',
    source: join(dir, 'daemon.json'),
    pid: 424242,
  });
  assert.deepEqual(
    findDaemon({ json: false, rest: '127.0.0.1:7700' }, { MCC_CONFIG_DIR: dir }),
    { url: 'http://127.0.0.1:7700', token: 'tok-tok-tok', source: '--rest' },
    'same URL: the token of daemon.json',
  );
  assert.deepEqual(findDaemon({ json: false }, { MCC_CONFIG_DIR: dir, MCC_REST: 'http://127.0.0.1:9/', MCC_TOKEN: 'env-token' }), {
    url: 'http://127.0.0.1:9',
    token: 'env-token',
    source: 'MCC_REST',
  });
  removeDaemonFile(dir, 1);
  assert.ok(existsSync(join(dir, 'daemon.json')), 'another pid leaves it');
  removeDaemonFile(dir, 424242);
  assert.equal(readDaemonFile(dir), undefined);
  assert.throws(() => findDaemon({ json: false }, { MCC_CONFIG_DIR: dir }), /the daemon is not running \(no .*daemon\.json\); start it with "mcc start"/);
});

test('help texts and tables', () => {
  assert.match(helpText('start'), /MCC_BOOTSTRAP/);
  assert.match(helpText('expose'), /--metadata JSON/);
  assert.match(helpText('peers'), /--json/);
  assert.equal(
    table([
      ['ID', 'ADDRESS'],
      ['abc', '1.2.3.4:5'],
      ['a', '-'],
    ]),
    'ID   ADDRESS\nabc  1.2.3.4:5\na    -',
  );
});
