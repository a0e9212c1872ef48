/**
 * Consortium mode over real UDP on loopback, three organisations (A provides, B is shared
 * with, C has one listed node) plus an untrusted one: who sees and who connects to each
 * service, exactly as its visibility says; refusals happen in the handshake, before any
 * service byte; a storing node of another organisation holds a restricted record it cannot read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { MccNode } from '../../src/index.js';
import { createRestHandler } from '../../src/rest/index.js';
import { generateIdentity } from '../../src/crypto/identity.js';
import { createOrganisation, type Organisation } from '../../src/consortium/organisation.js';
import { issueCertificate } from '../../src/consortium/certificate.js';
import { credentialFor } from '../../src/consortium/credential.js';
import { createRevocationRecord } from '../../src/consortium/revocation.js';
import type { ConsortiumOptions } from '../../src/node/consortium.js';
import { bytesToHex } from '../../src/util/bytes.js';
import { roundTrip } from './helpers.js';

const HOUR = 3600_000;

function credential(org: Organisation, options: { expired?: boolean } = {}) {
  const identity = generateIdentity();
  const now = Date.now();
  const certificate = issueCertificate(
    org,
    identity.publicKey,
    options.expired ? { notBefore: now - 2 * HOUR, expiresAt: now - HOUR } : { notBefore: now - 60_000, expiresAt: now + HOUR },
  );
  return { identity, credential: credentialFor(org, certificate) };
}

test('three organisations over real UDP: each node sees and connects exactly as the visibility says', async (t) => {
  const [a, b, c, x] = [createOrganisation(), createOrganisation(), createOrganisation(), createOrganisation()];
  const trustABC = [a.id, b.id, c.id];
  const nodes: MccNode[] = [];
  t.after(() => Promise.all(nodes.map((node) => node.stop())));
  const boot = await MccNode.create({ host: '127.0.0.1' });
  await boot.start();
  nodes.push(boot);
  const make = async (consortium?: { org: Organisation; trust: string[]; expired?: boolean }) => {
    let options: { identity?: ReturnType<typeof generateIdentity>; consortium?: ConsortiumOptions } = {};
    if (consortium) {
      const issued = credential(consortium.org, consortium);
      options = { identity: issued.identity, consortium: { credential: issued.credential, trust: consortium.trust } };
    }
    const node = await MccNode.create({ host: '127.0.0.1', bootstrap: [boot.address], ...options });
    await node.start();
    nodes.push(node);
    return node;
  };
  const provider = await make({ org: a, trust: trustABC });
  const memberA = await make({ org: a, trust: trustABC });
  const memberB = await make({ org: b, trust: trustABC });
  const listedC = await make({ org: c, trust: trustABC });
  const otherC = await make({ org: c, trust: trustABC });
  const outsider = await make();
  const expired = await make({ org: a, trust: trustABC, expired: true });
  const revoked = await make({ org: a, trust: trustABC });
  const untrusted = await make({ org: x, trust: [a.id] });
  // A forger runs modified code: an organisation of its own, but it presents a certificate
  // that names A as issuer (A's key, signed with the forger's organisation key).
  const rogue = createOrganisation();
  const forger = await make({ org: rogue, trust: [a.id] });
  const forged = issueCertificate({ ...rogue, publicKey: a.publicKey }, forger.id, {
    notBefore: Date.now() - 60_000,
    expiresAt: Date.now() + HOUR,
  });
  forger.consortium!.certificate = () => forged.bytes;

  const echo = (stream: Duplex) => stream.pipe(stream);
  await provider.register('pub', { handler: echo });
  await provider.register('team', { handler: echo, visibility: 'org', metadata: { room: 'a-only' } });
  await provider.register('shared', { handler: echo, visibility: { orgs: [b.id], nodes: [listedC.idHex] }, metadata: { secret: 's3' } });

  const sees = async (node: MccNode, name: string) => (await node.lookup(name, { fresh: true })).some((p) => p.id === provider.idHex);
  const connects = async (node: MccNode, name: string) => {
    try {
      return (await roundTrip(await node.connect(provider.idHex, { service: name, timeoutMs: 4000 }))) === 'ping';
    } catch {
      return false;
    }
  };
  const expect: Array<[string, MccNode, { team: boolean; shared: boolean; seesTeam: boolean; seesShared: boolean }]> = [
    ['member of A', memberA, { seesTeam: true, team: true, seesShared: true, shared: true }],
    ['member of B (shared-with organisation)', memberB, { seesTeam: false, team: false, seesShared: true, shared: true }],
    ['listed node of C', listedC, { seesTeam: false, team: false, seesShared: true, shared: true }],
    ['other member of C', otherC, { seesTeam: false, team: false, seesShared: false, shared: false }],
    ['outsider', outsider, { seesTeam: false, team: false, seesShared: false, shared: false }],
    // An expired member still holds A's read secret: it reads A's records until A rotates, but is refused at the handshake.
    ['expired certificate', expired, { seesTeam: true, team: false, seesShared: true, shared: false }],
    ['forged certificate', forger, { seesTeam: false, team: false, seesShared: false, shared: false }],
    ['untrusted organisation', untrusted, { seesTeam: false, team: false, seesShared: false, shared: false }],
  ];
  for (const [who, node, want] of expect) {
    const got = {
      seesTeam: await sees(node, 'team'),
      team: await connects(node, 'team'),
      seesShared: await sees(node, 'shared'),
      shared: await connects(node, 'shared'),
    };
    assert.deepEqual(got, want, who);
    assert.equal(await connects(node, 'pub'), true, `${who} uses the public service`);
  }
  // Members see the metadata.
  assert.deepEqual((await memberB.lookup('shared')).find((p) => p.id === provider.idHex)?.metadata, { secret: 's3' });
  const refusedBefore = provider.stats().consortium!.refused;
  assert.ok(refusedBefore >= 10, `refusals counted (${refusedBefore})`);
  assert.ok(provider.stats().consortium!.badCertificates >= 2, 'the forged and expired certificates counted');

  // A stream for a restricted service on a connection opened for another service is reset.
  const viaShared = await memberB.connect(provider.idHex, { service: 'shared' });
  assert.equal(await roundTrip(viaShared), 'ping');
  await assert.rejects(roundTrip(await memberB.connect(provider.idHex, { service: 'team' })));

  // Revocation: A publishes a list naming `revoked`; the provider refuses it after its next refresh.
  assert.equal(await connects(revoked, 'team'), true, 'before revocation');
  assert.ok((await memberA.consortium!.publishRevocations(createRevocationRecord(a, [revoked.id]))) >= 1);
  await provider.consortium!.refreshRevocations();
  assert.equal(await connects(revoked, 'team'), false, 'after revocation');
  assert.equal(await connects(memberA, 'team'), true, 'members not on the list are unaffected');

  // A storing node of another organisation holds a restricted record it cannot read.
  const copyKeys = provider
    .consortium!.state.restrictedCopies('shared', provider.consortium!.state.resolve({ orgs: [b.id], nodes: [listedC.idHex] }))
    .map((copy) => bytesToHex(copy.key));
  const held = copyKeys.flatMap((key) => otherC.kad.store.get(Uint8Array.from(Buffer.from(key, 'hex'))));
  assert.ok(held.length > 0, 'the other organisation stores copies');
  for (const record of held) {
    assert.equal(bytesToHex(record.author), provider.idHex, 'it sees the author');
    assert.equal(Buffer.from(record.value).includes('s3'), false, 'not the metadata');
  }
  const readable = otherC.consortium!.state.restrictedReads('shared').filter((read) => copyKeys.includes(bytesToHex(read.key)));
  assert.deepEqual(readable, [], 'nor can it derive a key to read them under');

  // The outsider through the REST adapter: no providers, and a forward's connections are refused.
  const server: Server = createServer(createRestHandler(outsider));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  type Answer = { providers: Array<{ id: string }> };
  const team = (await (await fetch(`${base}/v1/services/team/providers?fresh=true`)).json()) as Answer;
  assert.deepEqual(team.providers, []);
  const pub = (await (await fetch(`${base}/v1/services/pub/providers`)).json()) as Answer;
  assert.deepEqual(
    pub.providers.map((p) => p.id),
    [provider.idHex],
  );
});
