import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeCryptoSuite } from '../../src/crypto/node-suite.js';
import { nobleCryptoSuite } from '../../src/crypto/noble-suite.js';
import { generateIdentity } from '../../src/crypto/identity.js';
import { MccError } from '../../src/errors.js';
import { checkRecord, signRecord } from '../../src/kademlia/record.js';
import { recordFitsDatagram } from '../../src/kademlia/wire-size.js';
import { bytesToHex } from '../../src/util/bytes.js';
import { createOrganisation, parseOrganisationId } from '../../src/consortium/organisation.js';
import { checkCertificate, decodeCertificate, issueCertificate, MAX_CERTIFICATE_BYTES, verifyCertificate } from '../../src/consortium/certificate.js';
import { createRevocationRecord, MAX_REVOKED, parseRevocationRecord, revocationKey } from '../../src/consortium/revocation.js';
import { Consortium } from '../../src/consortium/consortium.js';
import { credentialFor, loadCredential, loadOrganisation, saveCredential, saveOrganisation } from '../../src/consortium/credential.js';
import { MAX_HANDSHAKE_PAYLOAD } from '../../src/tunnel/handshake.js';

const suite = nodeCryptoSuite;
const NOW = 1_800_000_000_000;

test('organisation IDs carry the signing and read keys; both suites derive the same organisation', () => {
  const org = createOrganisation();
  assert.equal(org.id.length, 128);
  const ref = parseOrganisationId(org.id);
  assert.deepEqual(ref.publicKey, org.publicKey);
  assert.deepEqual(ref.readPublicKey, org.readPublicKey);
  assert.equal(createOrganisation({ secretKey: org.keyPair.secretKey, suite: nobleCryptoSuite }).id, org.id);
  assert.equal(JSON.stringify(org).includes(bytesToHex(org.readSecret)), false, 'read secret stays out of JSON');
  assert.throws(
    () => parseOrganisationId('abc'),
    (e: unknown) => e instanceof MccError && e.code === 'ERR_INVALID_ARGUMENT',
  );
});

test('certificates: valid, expired, not yet valid, forged, tampered, wrong org, wrong node, revoked', () => {
  const org = createOrganisation();
  const other = createOrganisation();
  const node = generateIdentity();
  const cert = issueCertificate(org, node.publicKey, { notBefore: NOW - 1000, expiresAt: NOW + 60_000, roles: ['ops', 'db'] });
  assert.ok(cert.bytes.length <= MAX_CERTIFICATE_BYTES);
  assert.ok(cert.bytes.length + 1 + 255 + 1 <= MAX_HANDSHAKE_PAYLOAD, 'a certificate and the longest service name fit one handshake');
  assert.deepEqual(decodeCertificate(cert.bytes)?.roles, ['ops', 'db']);
  const trust = [org.id];
  assert.equal(verifyCertificate(cert.bytes, { trust, now: NOW, nodeId: node.publicKey }).expiresAt, NOW + 60_000);
  const problem = (bytes: Uint8Array, extra: Partial<Parameters<typeof checkCertificate>[1]> = {}) => {
    const verdict = checkCertificate(bytes, { trust, now: NOW, nodeId: node.publicKey, ...extra });
    return verdict.ok ? 'ok' : verdict.problem;
  };
  assert.equal(problem(cert.bytes), 'ok');
  assert.equal(problem(cert.bytes, { now: NOW + 60_000 }), 'expired');
  assert.equal(problem(cert.bytes, { now: NOW - 2000 }), 'not-yet-valid');
  assert.equal(problem(cert.bytes, { trust: [other.id] }), 'untrusted');
  assert.equal(problem(cert.bytes, { nodeId: generateIdentity().publicKey }), 'wrong-node');
  assert.equal(problem(cert.bytes, { isRevoked: (o, n) => o === bytesToHex(org.publicKey) && n === bytesToHex(node.publicKey) }), 'revoked');
  // Forged: the other organisation signs a certificate naming the trusted organisation's key.
  const forged = issueCertificate({ ...other, publicKey: org.publicKey }, node.publicKey, { notBefore: NOW - 1000, expiresAt: NOW + 60_000 });
  assert.equal(problem(forged.bytes), 'signature');
  const tampered = Uint8Array.from(cert.bytes);
  tampered[80] ^= 1; // expiry pushed out
  assert.equal(problem(tampered), 'signature');
  assert.equal(problem(cert.bytes.subarray(0, 100)), 'malformed');
  assert.throws(
    () => verifyCertificate(tampered, { trust, now: NOW }),
    (e: unknown) => e instanceof MccError && e.code === 'ERR_CRYPTO' && e.details?.['problem'] === 'signature',
  );
  assert.throws(
    () => issueCertificate(org, 'nope'),
    (e: unknown) => e instanceof MccError && e.code === 'ERR_INVALID_ARGUMENT',
  );
  assert.throws(
    () => issueCertificate(org, node.publicKey, { roles: ['x'.repeat(65)] }),
    (e: unknown) => e instanceof MccError && e.code === 'ERR_INVALID_ARGUMENT',
  );
});

test('revocation lists are signed mutable DHT values under the organisation key, one datagram at most', () => {
  const org = createOrganisation();
  const revoked = Array.from({ length: MAX_REVOKED }, () => generateIdentity().publicKey);
  const record = createRevocationRecord(org, revoked, { seq: 7, now: NOW });
  assert.deepEqual(record.key, revocationKey(org.publicKey));
  assert.ok(recordFitsDatagram(record));
  assert.equal(checkRecord(suite, record, record.key, NOW, 48 * 3600_000), null);
  const list = parseRevocationRecord(record, org.publicKey);
  assert.equal(list?.seq, 7);
  assert.equal(list?.revoked.size, MAX_REVOKED);
  assert.ok(list?.revoked.has(bytesToHex(revoked[3])));
  assert.equal(parseRevocationRecord(record, createOrganisation().publicKey), null, 'another organisation does not own it');
  const altered = { ...record, value: Uint8Array.from(record.value) };
  altered.value[20] ^= 1;
  assert.equal(checkRecord(suite, altered, altered.key, NOW, 48 * 3600_000), 'signature');
  assert.throws(
    () => createRevocationRecord(org, [...revoked, revoked[0]]),
    (e: unknown) => e instanceof MccError && e.code === 'ERR_INVALID_ARGUMENT',
  );
});

function member(org: ReturnType<typeof createOrganisation>, trust: string[]) {
  const identity = generateIdentity();
  const certificate = issueCertificate(org, identity.publicKey, { notBefore: NOW - 1000, expiresAt: NOW + 3600_000 });
  return { identity, state: new Consortium({ suite, identity, credential: credentialFor(org, certificate), trust, wallClock: () => NOW }) };
}

test('restricted records: members of allowed organisations and allowed nodes read them; others cannot derive the key or open the value', () => {
  const a = createOrganisation();
  const b = createOrganisation();
  const c = createOrganisation();
  const trustAll = [a.id, b.id, c.id];
  const provider = member(a, trustAll);
  const memberA = member(a, trustAll);
  const memberB = member(b, trustAll);
  const memberC = member(c, trustAll);
  const nodeC = member(c, trustAll);
  const visibility = provider.state.resolve({ orgs: [b.id], nodes: [bytesToHex(nodeC.identity.publicKey)] });
  const copies = provider.state.restrictedCopies('db', visibility);
  assert.equal(copies.length, 3, 'own organisation, B, and the listed node');
  const plain = new TextEncoder().encode('addresses and metadata');
  const records = copies.map((copy) => signRecord(suite, provider.identity, { key: copy.key, seq: 1, expiresAt: NOW + 60_000, value: copy.seal(plain) }));
  for (const record of records) assert.equal(checkRecord(suite, record, record.key, NOW, 48 * 3600_000), null, 'holders verify as usual');
  const reads = (who: ReturnType<typeof member>) => {
    const found: string[] = [];
    for (const read of who.state.restrictedReads('db'))
      for (const record of records) {
        if (Buffer.compare(read.key, record.key) !== 0) continue;
        const opened = read.open(record);
        if (opened !== null) found.push(new TextDecoder().decode(opened));
      }
    return [...new Set(found)];
  };
  // A's members hold A's read secret, so they open every copy (own-org and B's); a lookup dedupes by author.
  assert.deepEqual(reads(memberA), ['addresses and metadata']);
  assert.deepEqual(reads(memberB), ['addresses and metadata']);
  assert.deepEqual(reads(nodeC), ['addresses and metadata']);
  assert.deepEqual(reads(memberC), [], 'a member of an organisation not listed finds nothing');
  // Tampered ciphertext or a record re-signed by another author does not open.
  const read = memberB.state.restrictedReads('db').find((r) => records.some((rec) => Buffer.compare(r.key, rec.key) === 0))!;
  const record = records.find((rec) => Buffer.compare(read.key, rec.key) === 0)!;
  const tampered = { ...record, value: Uint8Array.from(record.value) };
  tampered.value[tampered.value.length - 1] ^= 1;
  assert.equal(read.open(tampered), null);
  assert.equal(read.open({ ...record, author: memberC.identity.publicKey }), null);
  // Republishing unchanged contents yields the same bytes (no spurious watch updates).
  assert.deepEqual(copies[0].seal(plain), copies[0].seal(plain));
});

test('a credential must match the node, its organisation and the read secret', () => {
  const a = createOrganisation();
  const b = createOrganisation();
  const identity = generateIdentity();
  const certificate = issueCertificate(a, identity.publicKey);
  const bad = (credential: Parameters<typeof credentialFor>[0] extends unknown ? object : never) =>
    assert.throws(
      () => new Consortium({ suite, identity, credential: credential as never, trust: [], wallClock: Date.now }),
      (e: unknown) => e instanceof MccError && e.code === 'ERR_INVALID_ARGUMENT',
    );
  bad({ organisation: a.id, certificate: issueCertificate(a, generateIdentity().publicKey).bytes, readSecret: a.readSecret });
  bad({ organisation: b.id, certificate: certificate.bytes, readSecret: b.readSecret });
  bad({ organisation: a.id, certificate: certificate.bytes, readSecret: b.readSecret });
  assert.doesNotThrow(() => new Consortium({ suite, identity, credential: credentialFor(a, certificate), trust: [b.id], wallClock: Date.now }));
});

test('organisation and credential files are written with mode 0600 and read back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mcc-org-'));
  try {
    const org = createOrganisation();
    await saveOrganisation(join(dir, 'org.json'), org);
    assert.equal((await stat(join(dir, 'org.json'))).mode & 0o777, 0o600);
    assert.equal((await loadOrganisation(join(dir, 'org.json'))).id, org.id);
    const credential = credentialFor(org, issueCertificate(org, generateIdentity().publicKey));
    await saveCredential(join(dir, 'node.cred.json'), credential);
    assert.equal((await stat(join(dir, 'node.cred.json'))).mode & 0o777, 0o600);
    assert.deepEqual(await loadCredential(join(dir, 'node.cred.json')), credential);
    await assert.rejects(loadCredential(join(dir, 'org.json')), (e: unknown) => e instanceof MccError && e.code === 'ERR_IDENTITY');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
