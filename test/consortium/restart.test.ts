/**
 * Restricted registrations survive a restart from the data directory: node.json keeps the
 * visibility, the restarted provider checks it from its first handshake (a member connects,
 * an outsider and a member of an organisation it is not shared with are refused), and it
 * fails closed when the visibility cannot be restored (no consortium mode). Real UDP and a
 * real TCP echo service on loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MccNode } from '../../src/index.js';
import { generateIdentity, saveIdentity } from '../../src/crypto/identity.js';
import { createOrganisation } from '../../src/consortium/organisation.js';
import type { Logger } from '../../src/util/logger.js';
import { member, roundTrip } from './helpers.js';

test('restricted registrations are saved with their visibility and restored with it after a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mcc-restricted-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const echo = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => echo.close(() => resolve())));
  const port = (echo.address() as AddressInfo).port;
  const a = createOrganisation();
  const b = createOrganisation();
  const c = createOrganisation();
  const trust = [a.id, b.id, c.id];
  // The credential names the provider's key: the data directory holds that key.
  const identity = generateIdentity();
  await saveIdentity(join(dir, 'identity.json'), identity);
  const nodes: MccNode[] = [];
  t.after(() => Promise.all(nodes.map((node) => node.stop())));
  const seed = await MccNode.create({ host: '127.0.0.1', lan: false });
  await seed.start();
  nodes.push(seed);

  const first = await MccNode.create({ host: '127.0.0.1', lan: false, dataDir: dir, bootstrap: [seed.address], ...member(a, trust, identity) });
  await first.start();
  await first.register('team', { port, visibility: 'org' });
  await first.register('shared', { port, visibility: { orgs: [b.id] }, metadata: { v: 1 } });
  await first.register('pub', { port });
  const saved = JSON.parse(readFileSync(join(dir, 'node.json'), 'utf8')) as { services: Array<{ name: string; visibility?: unknown }> };
  assert.deepEqual(
    saved.services.map((service) => [service.name, service.visibility]),
    [
      ['team', 'org'],
      ['shared', { orgs: [b.id] }],
      ['pub', undefined],
    ],
  );
  await first.stop();

  const again = await MccNode.create({ host: '127.0.0.1', lan: false, dataDir: dir, bootstrap: [seed.address], ...member(a, trust, identity) });
  await again.start();
  nodes.push(again);
  assert.equal(again.idHex, first.idHex);
  assert.deepEqual(
    again.registrations().map((info) => info.name),
    ['team', 'shared', 'pub'],
  );
  const start = async (options: Parameters<typeof MccNode.create>[0]) => {
    const node = await MccNode.create({ host: '127.0.0.1', lan: false, bootstrap: [seed.address], ...options });
    await node.start();
    nodes.push(node);
    return node;
  };
  const [memberA, memberB, memberC, outsider] = await Promise.all([start(member(a, trust)), start(member(b, trust)), start(member(c, trust)), start({})]);
  const connects = async (node: MccNode, name: string) => {
    try {
      return (await roundTrip(await node.connect(again.idHex, { service: name, timeoutMs: 4000 }))) === 'ping';
    } catch {
      return false;
    }
  };
  const sees = async (node: MccNode, name: string) => (await node.lookup(name, { fresh: true })).some((p) => p.id === again.idHex);
  for (const [who, node, want] of [
    ['member of A', memberA, { team: true, shared: true, seesShared: true }],
    ['member of B', memberB, { team: false, shared: true, seesShared: true }],
    ['member of C', memberC, { team: false, shared: false, seesShared: false }],
    ['outsider', outsider, { team: false, shared: false, seesShared: false }],
  ] as const) {
    const got = { team: await connects(node, 'team'), shared: await connects(node, 'shared'), seesShared: await sees(node, 'shared') };
    assert.deepEqual(got, want, who);
    assert.equal(await connects(node, 'pub'), true, `${who} uses the public service`);
  }
  assert.deepEqual((await memberB.lookup('shared')).find((p) => p.id === again.idHex)?.metadata, { v: 1 });

  // Registering a restored name again takes it over only with the same visibility.
  await assert.rejects(again.register('team', { port, visibility: { orgs: [b.id] } }), { code: 'ERR_INVALID_ARGUMENT' });
  const taken = await again.register('shared', { port, visibility: { orgs: [b.id] }, metadata: { v: 2 } });
  assert.deepEqual(taken.metadata, { v: 2 });
  await again.stop();

  // Without consortium mode the restricted services are not restored (fail closed); the public one is.
  const warnings: string[] = [];
  const quiet = (): void => undefined;
  const logger: Logger = { debug: quiet, info: quiet, warn: (message: string) => void warnings.push(message), error: quiet };
  const plain = await MccNode.create({ host: '127.0.0.1', lan: false, dataDir: dir, logger });
  await plain.start();
  nodes.push(plain);
  assert.deepEqual(
    plain.registrations().map((info) => info.name),
    ['pub'],
  );
  assert.ok(warnings.filter((warning) => /not restored: .*consortium/.test(warning)).length === 2, warnings.join('\n'));
});
