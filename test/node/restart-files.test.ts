/**
 * The data directory's files: private modes, atomic writes, damaged files logged and
 * ignored (never fatal), what is saved (TCP registrations, not handlers), and a restored
 * registration that the application registers again (taken over, not refused).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MccNode } from '../../src/index.js';
import { parseState, writeAtomic } from '../../src/node/persistence.js';
import type { Logger } from '../../src/util/logger.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mcc-data-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const quiet = (): void => undefined;
  return { warnings, debug: quiet, info: quiet, warn: (message: string) => void warnings.push(message), error: quiet };
}

const savedState = (dir: string): { port?: number; services: Array<{ name: string; port: number; metadata?: unknown }> } =>
  JSON.parse(readFileSync(join(dir, 'node.json'), 'utf8')) as { port?: number; services: Array<{ name: string; port: number }> };

test('node.json holds the port and TCP registrations (not handlers); unregister removes one; the files are 0600', async (t) => {
  const dir = tempDir(t);
  const seed = await MccNode.create({ host: '127.0.0.1', lan: false });
  await seed.start();
  t.after(() => seed.stop());
  const node = await MccNode.create({ host: '127.0.0.1', lan: false, dataDir: join(dir, 'nested', 'data'), bootstrap: [seed.address] });
  await node.start();
  t.after(() => node.stop());
  const data = join(dir, 'nested', 'data');
  assert.equal(statSync(data).mode & 0o777, 0o700);
  await node.register('db', { port: 5432, metadata: { role: 'primary' } });
  await node.register('api', { port: 8080, host: '127.0.0.2', ttl: 60_000 });
  await node.register('inproc', { handler: (stream) => stream.end() });
  let state = savedState(data);
  assert.equal(state.port, node.address.port);
  assert.deepEqual(
    state.services.map((service) => service.name),
    ['db', 'api'],
  );
  assert.deepEqual(state.services[0], { name: 'db', host: '127.0.0.1', port: 5432, metadata: { role: 'primary' }, ttl: 120_000 });
  await node.unregister('db');
  state = savedState(data);
  assert.deepEqual(
    state.services.map((service) => service.name),
    ['api'],
  );
  for (const file of readdirSync(data)) assert.equal(statSync(join(data, file)).mode & 0o777, 0o600, file);
  assert.deepEqual(readdirSync(data).sort(), ['identity.json', 'node.json', 'routing.json'], 'no temporary file left behind');
});

test('a restart restores the registration; registering it again takes it over with the new target and metadata', async (t) => {
  const dir = tempDir(t);
  const first = await MccNode.create({ host: '127.0.0.1', lan: false, dataDir: dir });
  await first.start();
  await first.register('web', { port: 8080, metadata: { v: 1 } });
  const id = first.idHex;
  await first.stop(); // a clean stop withdraws the record, but the registration stays saved
  const again = await MccNode.create({ host: '127.0.0.1', lan: false, dataDir: dir });
  await again.start();
  t.after(() => again.stop());
  assert.equal(again.idHex, id);
  assert.deepEqual(
    again.registrations().map((info) => [info.name, info.target]),
    [['web', { kind: 'tcp', host: '127.0.0.1', port: 8080 }]],
  );
  const taken = await again.register('web', { port: 9090, metadata: { v: 2 } });
  assert.deepEqual(taken.metadata, { v: 2 });
  assert.deepEqual(
    again.registrations().map((info) => [info.name, info.target]),
    [['web', { kind: 'tcp', host: '127.0.0.1', port: 9090 }]],
  );
  assert.equal(savedState(dir).services[0].port, 9090);
  await assert.rejects(again.register('web', { port: 9091 }), { code: 'ERR_INVALID_ARGUMENT' }, 'taken over once; a second register is the usual error');
});

test('damaged files are logged and ignored: the node starts, a damaged key is moved aside, not overwritten', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'identity.json'), '{"type":"mcc-mesh-identity","version":1,"secretKey":"zz"}');
  writeFileSync(join(dir, 'node.json'), '{not json');
  writeFileSync(join(dir, 'routing.json'), '[1,2');
  const logger = recordingLogger();
  const node = await MccNode.create({ host: '127.0.0.1', lan: false, dataDir: dir, logger });
  await node.start();
  t.after(() => node.stop());
  assert.deepEqual(node.registrations(), []);
  assert.ok(
    logger.warnings.some((warning) => /identity/.test(warning) && /moved to/.test(warning)),
    logger.warnings.join('\n'),
  );
  assert.ok(
    logger.warnings.some((warning) => /node\.json is damaged/.test(warning)),
    logger.warnings.join('\n'),
  );
  assert.ok(
    logger.warnings.some((warning) => /routing\.json is damaged/.test(warning)),
    logger.warnings.join('\n'),
  );
  const aside = readdirSync(dir).find((file) => file.startsWith('identity.json.damaged-'));
  assert.ok(aside, 'the damaged key file is kept for the operator');
  assert.equal(readFileSync(join(dir, aside), 'utf8'), '{"type":"mcc-mesh-identity","version":1,"secretKey":"zz"}');
  const saved = JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')) as { publicKey: string };
  assert.equal(saved.publicKey, node.idHex, 'a new identity, saved');
});

test('parseState keeps valid entries only; writeAtomic replaces a file whole with mode 0600', (t) => {
  assert.equal(parseState('null'), undefined);
  assert.equal(parseState('{"version":2,"services":[]}'), undefined);
  assert.deepEqual(
    parseState(
      JSON.stringify({
        version: 1,
        port: 70000,
        services: [{ name: 'ok', host: 'h', port: 1 }, { name: 'bad port', host: 'h', port: 0 }, { name: 'bad ttl', host: 'h', port: 2, ttl: 'x' }, 7],
      }),
    ),
    { services: [{ name: 'ok', host: 'h', port: 1 }] },
  );
  const dir = tempDir(t);
  const file = join(dir, 'x.json');
  writeFileSync(file, 'old', { mode: 0o644 });
  return writeAtomic(file, 'new').then(() => {
    assert.equal(readFileSync(file, 'utf8'), 'new');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['x.json']);
  });
});
