/**
 * Limits per organisation over real UDP on loopback: a node with `policy.limits` refuses a
 * member organisation's records and relay circuits beyond its limit (typed refusals,
 * counted per organisation) while another organisation's nodes are unaffected, and all
 * outsiders share one budget.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MccNode } from '../../src/index.js';
import { MccError } from '../../src/errors.js';
import { generateIdentity } from '../../src/crypto/identity.js';
import { nodeCryptoSuite } from '../../src/crypto/node-suite.js';
import { createOrganisation, type Organisation } from '../../src/consortium/organisation.js';
import { issueCertificate } from '../../src/consortium/certificate.js';
import { credentialFor } from '../../src/consortium/credential.js';
import { RpcKadNetwork } from '../../src/kademlia/rpc-network.js';
import { signRecord } from '../../src/kademlia/record.js';
import type { ConsortiumOptions } from '../../src/node/consortium.js';

function member(org: Organisation, trust: string[], extra: Partial<ConsortiumOptions> = {}) {
  const identity = generateIdentity();
  const certificate = issueCertificate(org, identity.publicKey, { notBefore: Date.now() - 60_000, expiresAt: Date.now() + 3600_000 });
  return { identity, consortium: { credential: credentialFor(org, certificate), trust, ...extra } };
}

/** Stores one fresh record (random key and author) at `holder` directly, over `from`'s RPC: 'ok' or the refusal's reason. */
async function storeAt(from: MccNode, holder: MccNode): Promise<string> {
  const network = new RpcKadNetwork({ rpc: from.rpc, clientMode: () => false, timeoutMs: 2000 });
  const to = { id: holder.id, address: holder.address };
  const key = randomBytes(32);
  const { token } = await network.findValue(to, key);
  const record = signRecord(nodeCryptoSuite, generateIdentity(), { key, seq: 1, expiresAt: Date.now() + 600_000, value: randomBytes(16) });
  return network.store(to, key, record, token!).then(
    () => 'ok',
    (error: MccError) => (error.details?.reason as string | undefined) ?? error.code,
  );
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  assert.ok(condition(), what);
}

test('limits per organisation: records and relay circuits over an organisation limit are refused (typed, counted); the other organisation and its quota are unaffected', async (t) => {
  const a = createOrganisation();
  const b = createOrganisation();
  const nodes: MccNode[] = [];
  t.after(() => Promise.all(nodes.map((node) => node.stop())));
  const limits = { members: { records: 3, relayCircuits: 1 }, outsiders: { records: 0, relayCircuits: 0 } };
  const holder = await MccNode.create({ host: '127.0.0.1', ...member(a, [b.id], { policy: { limits } }) });
  await holder.start();
  nodes.push(holder);
  const start = async (options: Parameters<typeof MccNode.create>[0]) => {
    const node = await MccNode.create({ host: '127.0.0.1', bootstrap: [holder.address], ...options });
    nodes.push(node);
    await node.start();
    return node;
  };
  const [a1, a2, b1, b2, outsider] = await Promise.all([
    start(member(a, [b.id])),
    start(member(a, [b.id])),
    start(member(b, [a.id])),
    start(member(b, [a.id])),
    start({}),
  ]);
  // Their joins asked the holder for contacts: it asked each for its certificate in the background.
  await until(() => [a1, a2, b1, b2].every((node) => holder.consortium!.state.peerCertificate(node.idHex) !== undefined), 'certificates learned');

  // Records: organisation A's two nodes share A's 3; the fourth is refused with reason 'limit'.
  assert.deepEqual([await storeAt(a1, holder), await storeAt(a1, holder), await storeAt(a2, holder)], ['ok', 'ok', 'ok']);
  assert.equal(await storeAt(a2, holder), 'limit');
  assert.equal(await storeAt(a1, holder), 'limit');
  // Organisation B has its own 3, untouched by A's.
  assert.deepEqual([await storeAt(b1, holder), await storeAt(b2, holder), await storeAt(b1, holder)], ['ok', 'ok', 'ok']);
  assert.equal(await storeAt(b2, holder), 'limit');
  // Outsiders share a limit of none.
  assert.equal(await storeAt(outsider, holder), 'limit');

  // Relay circuits: one per organisation (initiators' organisation), none for outsiders.
  const relay = { id: holder.id, address: holder.address };
  await b1.nat.service.relayClient.reserve(relay);
  const first = await a1.nat.service.relayClient.connect(relay, b1.id, { timeoutMs: 3000 });
  assert.ok(first.address);
  await assert.rejects(a2.nat.service.relayClient.connect(relay, b1.id, { timeoutMs: 3000 }), (error: MccError) => error.code === 'ERR_LIMIT');
  await assert.rejects(outsider.nat.service.relayClient.connect(relay, b1.id, { timeoutMs: 3000 }), (error: MccError) => error.code === 'ERR_LIMIT');
  const other = await b2.nat.service.relayClient.connect(relay, b1.id, { timeoutMs: 3000 });
  assert.ok(other.address);

  const stats = holder.stats().consortium!;
  assert.deepEqual(stats.limits![a.id], { records: 3, refusedRecords: 2, refusedCircuits: 1, refusedRequests: 0 });
  assert.deepEqual(stats.limits![b.id], { records: 3, refusedRecords: 1, refusedCircuits: 0, refusedRequests: 0 });
  assert.deepEqual(stats.limits!.outsiders, { records: 0, refusedRecords: 1, refusedCircuits: 1, refusedRequests: 0 });
  assert.equal(stats.limitRefused, 6);
  assert.equal(holder.stats().nat.relayServer.circuits, 2);
});

test('limits per organisation: outsiders share one request budget; members keep theirs', async (t) => {
  const a = createOrganisation();
  const nodes: MccNode[] = [];
  t.after(() => Promise.all(nodes.map((node) => node.stop())));
  const holder = await MccNode.create({ host: '127.0.0.1', ...member(a, [], { policy: { limits: { outsiders: { requestsPerSecond: 5 } } } }) });
  await holder.start();
  nodes.push(holder);
  const start = async (options: Parameters<typeof MccNode.create>[0]) => {
    const node = await MccNode.create({ host: '127.0.0.1', bootstrap: [holder.address], ...options });
    nodes.push(node);
    await node.start();
    return node;
  };
  const [insider, outsider] = await Promise.all([start(member(a, [])), start({})]);
  await until(() => holder.consortium!.state.peerCertificate(insider.idHex) !== undefined, 'certificate learned');
  const to = { id: holder.id, address: holder.address };
  const burst = async (from: MccNode) => {
    const network = new RpcKadNetwork({ rpc: from.rpc, clientMode: () => false, timeoutMs: 2000 });
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, () =>
        network.findValue(to, randomBytes(32)).then(
          () => 'ok',
          (error: MccError) => error.code,
        ),
      ),
    );
    return { ok: outcomes.filter((o) => o === 'ok').length, limited: outcomes.filter((o) => o === 'ERR_LIMIT').length };
  };
  const outside = await burst(outsider);
  assert.ok(outside.ok <= 6 && outside.limited >= 24, `outsider ${JSON.stringify(outside)}`);
  assert.deepEqual(await burst(insider), { ok: 30, limited: 0 });
  const stats = holder.stats().consortium!.limits!;
  assert.equal(stats.outsiders.refusedRequests, outside.limited);
  assert.equal(stats[a.id].refusedRequests, 0);
});
