/**
 * The DHT policy over real UDP: a bootstrap node that serves the DHT to members only asks
 * unknown requesters for their certificate (CertificateRequest) and refuses those without a
 * valid one; members store and read through it, an outsider cannot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MccNode } from '../../src/index.js';
import { generateIdentity } from '../../src/crypto/identity.js';
import { createOrganisation, type Organisation } from '../../src/consortium/organisation.js';
import { issueCertificate } from '../../src/consortium/certificate.js';
import { credentialFor } from '../../src/consortium/credential.js';
import type { ConsortiumOptions } from '../../src/node/consortium.js';

function member(org: Organisation, trust: string[], extra: Partial<ConsortiumOptions> = {}) {
  const identity = generateIdentity();
  const certificate = issueCertificate(org, identity.publicKey, { notBefore: Date.now() - 60_000, expiresAt: Date.now() + 3600_000 });
  return { identity, consortium: { credential: credentialFor(org, certificate), trust, ...extra } };
}

test("policy dht: 'members' — members use the DHT through the node, an outsider is refused after one certificate exchange", async (t) => {
  const a = createOrganisation();
  const b = createOrganisation();
  const nodes: MccNode[] = [];
  t.after(() => Promise.all(nodes.map((node) => node.stop())));
  const boot = await MccNode.create({ host: '127.0.0.1', ...member(a, [b.id], { policy: { dht: 'members', relay: 'members' } }) });
  await boot.start();
  nodes.push(boot);
  const start = async (options: Parameters<typeof MccNode.create>[0]) => {
    const node = await MccNode.create({ host: '127.0.0.1', bootstrap: [boot.address], ...options });
    nodes.push(node);
    await node.start();
    return node;
  };
  const memberA = await start(member(a, [b.id]));
  const memberB = await start(member(b, [a.id]));
  const outsider = await start({});

  const { key } = await memberB.dht.put(new TextEncoder().encode('members only'));
  assert.equal(new TextDecoder().decode((await memberA.dht.get(key))!.value), 'members only');
  // The outsider reaches no holder: only its own copy exists, which members never see.
  const own = await outsider.dht.put(new TextEncoder().encode('outsider'));
  assert.equal(own.stored, 1);
  assert.equal(await memberA.dht.get(own.key), null);
  assert.equal(await outsider.dht.get(key), null);
  // The outsider's join asked the node for contacts; the answer waits for one certificate exchange (1 s budget).
  for (let i = 0; i < 200 && boot.stats().consortium!.policyRefused === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  const stats = boot.stats().consortium!;
  assert.ok(stats.policyRefused >= 1, `refused ${stats.policyRefused}`);
  // The members' certificates were learned through the exchange (no tunnel was ever opened).
  assert.ok(boot.consortium!.state.peerCertificate(memberB.idHex) !== undefined);
  assert.equal(boot.consortium!.state.peerCertificate(outsider.idHex), undefined);
});
