/**
 * `mcc org create / issue / revoke` and a member daemon (`mcc start --credential`) against
 * an outsider daemon, as child processes over real UDP on loopback: the member's `mcc lookup`
 * finds the organisation-only service, the outsider's finds only the public one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { MccNode } from '../../src/index.js';
import { generateIdentity, saveIdentity } from '../../src/crypto/identity.js';
import { loadCredential, loadOrganisation } from '../../src/consortium/credential.js';
import { runMcc, startMcc, tempDir, testEnv } from '../cli/helpers.js';

test('mcc org: create, issue, a member daemon sees the organisation-only service, an outsider does not, revoke publishes', async (t) => {
  const dir = tempDir(t, 'mcc-org-');
  const env = testEnv(dir);
  const orgFile = join(dir, 'org.json');
  const created = await runMcc(['org', 'create', '--out', orgFile], env);
  assert.equal(created.code, 0, created.stderr);
  const orgId = created.stdout.trim();
  assert.match(orgId, /^[0-9a-f]{128}$/);
  assert.equal(statSync(orgFile).mode & 0o777, 0o600);
  const organisation = await loadOrganisation(orgFile);
  assert.equal(organisation.id, orgId);

  // The provider runs in-process as a member; the seed is a plain public node.
  const seed = await MccNode.create({ host: '127.0.0.1' });
  await seed.start();
  t.after(() => seed.stop());
  const bootstrap = `127.0.0.1:${seed.address.port}`;
  const providerIdentity = generateIdentity();
  const providerCred = join(dir, 'provider.cred.json');
  assert.equal((await runMcc(['org', 'issue', Buffer.from(providerIdentity.publicKey).toString('hex'), '--org', orgFile, '--out', providerCred], env)).code, 0);
  const provider = await MccNode.create({ host: '127.0.0.1', bootstrap: [bootstrap], identity: providerIdentity, consortium: { credential: providerCred } });
  await provider.start();
  t.after(() => provider.stop());
  const echo = (stream: Duplex) => stream.pipe(stream);
  await provider.register('team', { handler: echo, visibility: 'org' });
  await provider.register('pub', { handler: echo });

  // A member daemon: its identity first (mcc org issue needs its ID), then the credential.
  const memberDir = tempDir(t);
  const memberIdentity = generateIdentity();
  const memberIdFile = join(memberDir, 'id.json');
  await saveIdentity(memberIdFile, memberIdentity);
  const memberId = Buffer.from(memberIdentity.publicKey).toString('hex');
  const memberCred = join(memberDir, 'member.cred.json');
  const issued = await runMcc(['org', 'issue', memberId, '--org', orgFile, '--out', memberCred, '--days', '2', '--roles', 'ops'], env);
  assert.equal(issued.code, 0, issued.stderr);
  assert.equal(statSync(memberCred).mode & 0o777, 0o600);
  assert.equal((await loadCredential(memberCred)).organisation, orgId);
  const member = await startMcc(
    t,
    ['--host', '127.0.0.1', '--bootstrap', bootstrap, '--identity', memberIdFile, '--credential', memberCred, '--rest', '127.0.0.1:0'],
    {
      env: testEnv(memberDir),
    },
  );
  assert.ok(member.url, member.output());
  const outsiderDir = tempDir(t);
  const outsider = await startMcc(t, ['--host', '127.0.0.1', '--bootstrap', bootstrap, '--rest', '127.0.0.1:0'], { env: testEnv(outsiderDir) });
  assert.ok(outsider.url, outsider.output());

  const lookup = async (daemonDir: string, name: string) => {
    const run = await runMcc(['lookup', name, '--json'], testEnv(daemonDir));
    assert.equal(run.code, 0, run.stderr);
    return (JSON.parse(run.stdout) as { providers: Array<{ id: string }> }).providers.map((p) => p.id);
  };
  assert.deepEqual(await lookup(memberDir, 'team'), [provider.idHex]);
  assert.deepEqual(await lookup(outsiderDir, 'team'), []);
  assert.deepEqual(await lookup(outsiderDir, 'pub'), [provider.idHex]);

  // Usage errors exit 2.
  assert.equal((await runMcc(['org', 'issue', 'not-a-node', '--org', orgFile, '--out', join(dir, 'x.json')], env)).code, 2);
  assert.equal((await runMcc(['start', '--trust', orgId], env)).code, 2, '--trust without --credential');

  // Revoke: the list is published on the mesh and kept in the organisation file (still 0600).
  const revoked = await runMcc(['org', 'revoke', memberId, '--org', orgFile, '--bootstrap', bootstrap], env);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.match(revoked.stdout, /revocation list of 1 node\(s\) stored on [1-9]\d* node\(s\)/);
  assert.equal(statSync(orgFile).mode & 0o777, 0o600);
  assert.deepEqual((JSON.parse(readFileSync(orgFile, 'utf8')) as { revoked: string[] }).revoked, [memberId]);
  await provider.consortium!.refreshRevocations();
  assert.equal(provider.consortium!.state.revocationsOf(Buffer.from(organisation.publicKey).toString('hex'))?.revoked.has(memberId), true);
});
