import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { childLogger, createLogger, debugEnabled, type Logger } from '../../src/util/logger.js';

const run = promisify(execFile);

test('DEBUG patterns: globs, lists and exclusions, as the debug package reads them', () => {
  assert.equal(debugEnabled('mcc:nat', 'mcc*'), true);
  assert.equal(debugEnabled('mcc:nat', 'mcc:*'), true);
  assert.equal(debugEnabled('mcc', 'mcc:*'), false);
  assert.equal(debugEnabled('mcc:nat', 'mcc:tunnel,mcc:nat'), true);
  assert.equal(debugEnabled('mcc:nat', 'mcc:tunnel mcc:session'), false);
  assert.equal(debugEnabled('mcc:nat', '*,-mcc:nat'), false);
  assert.equal(debugEnabled('mcc:nat', 'express:*'), false);
  assert.equal(debugEnabled('mcc:nat', undefined), false);
  assert.equal(debugEnabled('mcc:a.b', 'mcc:a?b'), false, 'only * is a wildcard');
});

test('a child logger logs at debug when DEBUG names it, and stays at the level otherwise', (t) => {
  const lines: string[] = [];
  t.mock.method(console, 'error', (line: string) => lines.push(line));
  const root = createLogger('warn', 'mcc 12345678', { debug: 'mcc:nat' });
  root.child!('nat').debug('probe sent');
  root.child!('tunnel').debug('hidden');
  root.child!('tunnel').warn('shown');
  root.debug('hidden too');
  assert.deepEqual(lines, ['[mcc 12345678 nat] debug probe sent', '[mcc 12345678 tunnel] warn shown']);
});

test('childLogger names the module for loggers without child()', () => {
  const seen: string[] = [];
  const plain: Logger = {
    debug: (m) => seen.push(`d ${m}`),
    info: (m) => seen.push(`i ${m}`),
    warn: (m) => seen.push(`w ${m}`),
    error: (m) => seen.push(`e ${m}`),
  };
  const nat = childLogger(plain, 'nat');
  nat.warn('relay lost');
  childLogger(nat, 'relay').info('reserved');
  assert.deepEqual(seen, ['w nat: relay lost', 'i nat:relay: reserved']);
});

test('DEBUG=mcc:tunnel in a real process logs that module of real nodes, and nothing else', async () => {
  const script = `
    import { MccNode } from './src/index.ts';
    const a = await MccNode.create({ host: '127.0.0.1', lan: false });
    await a.start();
    const b = await MccNode.create({ host: '127.0.0.1', lan: false, bootstrap: [a.address] });
    await b.start();
    await a.register('echo', { handler: (stream) => stream.pipe(stream) });
    const stream = await b.connect(a.idHex, { service: 'echo' });
    stream.end('x');
    for await (const _ of stream);
    await Promise.all([a.stop(), b.stop()]);
  `;
  const { stderr } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, DEBUG: 'mcc:tunnel', MCC_LOG: '' },
    timeout: 60_000,
  });
  const lines = stderr.split('\n').filter((line) => line.startsWith('['));
  assert.ok(lines.length > 0, `tunnel debug lines expected, stderr was: ${stderr}`);
  for (const line of lines) assert.match(line, /^\[mcc [0-9a-f]{8} tunnel\] debug /, line);
});
