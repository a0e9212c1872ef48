/**
 * Consortium mode in the simulator (test/consortium/sim.test.ts at 60 nodes, test/scale/consortium.test.ts at 200): nodes of three organisations with churn. Members of
 * an organisation a service is shared with find its restricted record as often as they find
 * public ones; members of an organisation it is not shared with never do.
 */
import assert from 'node:assert/strict';
import { createTestnet } from '../../src/testing/index.js';
import type { MccNode } from '../../src/index.js';
import { generateIdentity } from '../../src/crypto/identity.js';
import { createOrganisation } from '../../src/consortium/organisation.js';
import { issueCertificate } from '../../src/consortium/certificate.js';
import { credentialFor } from '../../src/consortium/credential.js';

const PROVIDERS = 10;
const EPOCH = Date.UTC(2026, 0, 1); // the testnet's virtual wall clock starts here

/**
 * The scenario at `SIZE` nodes; 200 take about 3 minutes of wall time on a loaded 2-core
 * machine, so the regular suite runs 60 here and test/scale/consortium.test.ts runs 200.
 */
export async function consortiumChurn(SIZE: number, t: { diagnostic(message: string): void }): Promise<void> {
  const CHURNED = SIZE / 5;
  const orgs = [createOrganisation(), createOrganisation(), createOrganisation()];
  const b = orgs[1];
  const trust = orgs.map((org) => org.id);
  const testnet = await createTestnet({ size: 0, seed: 18, latency: 20 });
  const orgOf = new Map<MccNode, number>();
  const join = async (index: number) => {
    const identity = generateIdentity();
    const org = orgs[index % 3];
    const certificate = issueCertificate(org, identity.publicKey, { notBefore: EPOCH - 86_400_000, expiresAt: EPOCH + 30 * 86_400_000 });
    const node = await testnet.add('none', { identity, consortium: { credential: credentialFor(org, certificate), trust } });
    orgOf.set(node, index % 3);
    return node;
  };
  try {
    const nodes: MccNode[] = [];
    for (let i = 0; i < SIZE; i++) nodes.push(await join(i));
    // Providers are members of A (index % 3 === 0); each offers one public and one B-shared service.
    const providers = nodes.filter((node) => orgOf.get(node) === 0).slice(0, PROVIDERS);
    await testnet.run(
      Promise.all(
        providers.flatMap((provider, k) => [
          provider.register(`open-${k}`, { handler: (stream) => stream.end() }),
          provider.register(`shared-${k}`, { handler: (stream) => stream.end(), visibility: { orgs: [b.id] } }),
        ]),
      ),
    );
    // Churn: a fifth of the other nodes leave without withdrawing anything, as many join.
    const others = nodes.filter((node) => !providers.includes(node));
    const leaving = others.filter((_, i) => i % 4 === 1).slice(0, CHURNED);
    for (const node of leaving) await testnet.run(node.stop());
    for (let i = 0; i < CHURNED; i++) await join(SIZE + i);
    await testnet.run(new Promise<void>((resolve) => testnet.clock.setTimeout(resolve, 30_000)));

    const alive = others.filter((node) => !leaving.includes(node));
    const membersB = alive.filter((node) => orgOf.get(node) === 1).slice(0, 30);
    const membersC = alive.filter((node) => orgOf.get(node) === 2).slice(0, 10);
    let open = 0;
    let shared = 0;
    let leaked = 0;
    for (const [i, client] of membersB.entries()) {
      const k = i % PROVIDERS;
      const id = providers[k].idHex;
      if ((await testnet.run(client.lookup(`open-${k}`, { fresh: true }))).some((p) => p.id === id)) open++;
      if ((await testnet.run(client.lookup(`shared-${k}`, { fresh: true }))).some((p) => p.id === id)) shared++;
    }
    for (const [i, client] of membersC.entries()) leaked += (await testnet.run(client.lookup(`shared-${i % PROVIDERS}`, { fresh: true }))).length;
    t.diagnostic(`members of B: public ${open}/${membersB.length}, restricted ${shared}/${membersB.length}; members of C: ${leaked} restricted found`);
    assert.ok(open >= membersB.length * 0.9, `public lookups: ${open}/${membersB.length}`);
    assert.ok(shared >= open, `restricted lookups by members of B: ${shared}/${membersB.length}, public: ${open}`);
    assert.equal(leaked, 0, 'members of C find no B-shared provider');
    // Members of A see the B-shared services too (their own organisation's records).
    const memberA = alive.find((node) => orgOf.get(node) === 0 && !providers.includes(node))!;
    assert.equal((await testnet.run(memberA.lookup('shared-0', { fresh: true }))).length, 1);
  } finally {
    await testnet.stop();
  }
}
