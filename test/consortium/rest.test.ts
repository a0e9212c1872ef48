/**
 * Restricted services registered through the REST adapter (real HTTP requests to
 * createRestHandler) and through the daemon's `mcc expose --visibility` (a child process):
 * members connect and see them, a member of an organisation they are not shared with and an
 * outsider do not; bad visibilities are 400s naming the field (usage errors in the CLI).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { MccNode } from '../../src/index.js';
import { createRestHandler } from '../../src/rest/index.js';
import { generateIdentity, saveIdentity } from '../../src/crypto/identity.js';
import { createOrganisation } from '../../src/consortium/organisation.js';
import { saveCredential } from '../../src/consortium/credential.js';
import { runMcc, startMcc, tempDir, testEnv } from '../cli/helpers.js';
import { member, roundTrip } from './helpers.js';

async function post(base: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const answer = await fetch(`${base}/v1/services`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
}

test('restricted services through REST and `mcc expose --visibility`: members see and connect, others do not', async (t) => {
  const echo = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => echo.close(() => resolve())));
  const port = (echo.address() as AddressInfo).port;
  const a = createOrganisation();
  const b = createOrganisation();
  const c = createOrganisation();
  const trust = [a.id, b.id, c.id];
  const nodes: MccNode[] = [];
  t.after(() => Promise.all(nodes.map((node) => node.stop())));
  const start = async (options: Parameters<typeof MccNode.create>[0]) => {
    const node = await MccNode.create({ host: '127.0.0.1', lan: false, ...options });
    await node.start();
    nodes.push(node);
    return node;
  };
  const seed = await start({});
  const at = { bootstrap: [seed.address] };
  const provider = await start({ ...at, ...member(a, trust) });
  const [memberA, memberB, memberC, outsider] = await Promise.all([
    start({ ...at, ...member(a, trust) }),
    start({ ...at, ...member(b, trust) }),
    start({ ...at, ...member(c, trust) }),
    start(at),
  ]);

  const server = createHttpServer(createRestHandler(provider));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const team = await post(base, { name: 'team', port, visibility: 'org' });
  assert.equal(team.status, 201, JSON.stringify(team.body));
  assert.equal(team.body.visibility, 'org');
  const shared = await post(base, { name: 'shared', port, visibility: { orgs: [b.id] }, metadata: { room: 7 } });
  assert.equal(shared.status, 201, JSON.stringify(shared.body));
  assert.deepEqual(shared.body.visibility, { orgs: [b.id] });
  assert.equal((await post(base, { name: 'pub', port })).body.visibility, 'public');
  const listed = (await (await fetch(`${base}/v1/services`)).json()) as { services: Array<{ name: string; visibility: unknown }> };
  assert.deepEqual(
    listed.services.map((service) => [service.name, service.visibility]),
    [
      ['team', 'org'],
      ['shared', { orgs: [b.id] }],
      ['pub', 'public'],
    ],
  );
  // Bad visibilities: 400 naming the field, nothing registered.
  const untrusted = createOrganisation();
  for (const [visibility, field] of [
    ['friends', 'visibility'],
    [{ orgs: 'x' }, 'visibility.orgs'],
    [{ groups: [] }, 'visibility.groups'],
    [{ orgs: [untrusted.id] }, 'visibility.orgs'],
    [{ nodes: ['zz'] }, 'visibility.nodes'],
  ] as const) {
    const answer = await post(base, { name: 'bad', port, visibility });
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.equal(answer.body.field, field, JSON.stringify(answer.body));
  }
  assert.equal(provider.registrations().length, 3);

  const connects = async (node: MccNode, to: MccNode, name: string) => {
    try {
      return (await roundTrip(await node.connect(to.idHex, { service: name, timeoutMs: 4000 }))) === 'ping';
    } catch {
      return false;
    }
  };
  const sees = async (node: MccNode, to: MccNode, name: string) => (await node.lookup(name, { fresh: true })).some((p) => p.id === to.idHex);
  for (const [who, node, want] of [
    ['member of A', memberA, { team: true, shared: true, seesShared: true }],
    ['member of B', memberB, { team: false, shared: true, seesShared: true }],
    ['member of C', memberC, { team: false, shared: false, seesShared: false }],
    ['outsider', outsider, { team: false, shared: false, seesShared: false }],
  ] as const) {
    const got = {
      team: await connects(node, provider, 'team'),
      shared: await connects(node, provider, 'shared'),
      seesShared: await sees(node, provider, 'shared'),
    };
    assert.deepEqual(got, want, who);
  }

  // The daemon: a member of A started with its credential; `mcc expose --visibility org`.
  const dir = tempDir(t);
  const identity = generateIdentity();
  await saveIdentity(join(dir, 'id.json'), identity);
  await saveCredential(join(dir, 'cred.json'), member(a, trust, identity).consortium.credential);
  const env = testEnv(dir);
  const daemon = await startMcc(
    t,
    [
      '--host',
      '127.0.0.1',
      '--bootstrap',
      seed.address.host + ':' + seed.address.port,
      '--identity',
      join(dir, 'id.json'),
      '--credential',
      join(dir, 'cred.json'),
      '--trust',
      b.id,
      '--rest',
      '127.0.0.1:0',
    ],
    { env },
  );
  assert.ok(daemon.url, daemon.output());
  const exposed = await runMcc(['expose', 'ops', `127.0.0.1:${port}`, '--visibility', 'org'], env);
  assert.equal(exposed.code, 0, exposed.stderr);
  assert.match(exposed.stdout, /visible to org/);
  const json = await runMcc(['expose', 'ops-b', `127.0.0.1:${port}`, '--visibility', JSON.stringify({ orgs: [b.id] }), '--json'], env);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual((JSON.parse(json.stdout) as { visibility: unknown }).visibility, { orgs: [b.id] });
  assert.equal((await runMcc(['expose', 'x', `127.0.0.1:${port}`, '--visibility', 'friends'], env)).code, 2, 'usage error');
  const refused = await runMcc(['expose', 'y', `127.0.0.1:${port}`, '--visibility', JSON.stringify({ orgs: [c.id] })], env);
  assert.equal(refused.code, 1, 'the daemon does not trust C');
  assert.match(refused.stderr, /visibility\.orgs/);
  const daemonId = Buffer.from(identity.publicKey).toString('hex');
  const daemonNode = { idHex: daemonId } as MccNode;
  assert.equal(await sees(memberA, daemonNode, 'ops'), true);
  assert.equal(await connects(memberA, daemonNode, 'ops'), true);
  assert.equal(await sees(outsider, daemonNode, 'ops'), false);
  assert.equal(await connects(outsider, daemonNode, 'ops'), false);
  assert.equal(await connects(memberB, daemonNode, 'ops'), false);
  assert.equal(await connects(memberB, daemonNode, 'ops-b'), true);
});
