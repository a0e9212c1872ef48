/** Identity generation, persistence (mode 0600, atomic write) and validation. */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MccError } from '../../src/errors.js';
import {
  dhtPosition,
  generateIdentity,
  identityFromSecret,
  loadIdentity,
  loadOrCreateIdentity,
  nobleCryptoSuite,
  nodeCryptoSuite,
  nodeIdToHex,
  resolveIdentity,
  saveIdentity,
} from '../../src/crypto/index.js';

const hasCode = (code: string) => (error: unknown) => error instanceof MccError && error.code === code;
const isIdentityError = hasCode('ERR_IDENTITY');
const isInvalidArgument = hasCode('ERR_INVALID_ARGUMENT');

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcc-identity-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('identity', () => {
  it('generateIdentity gives a consistent fresh key pair with either suite', () => {
    for (const suite of [nodeCryptoSuite, nobleCryptoSuite]) {
      const a = generateIdentity(suite);
      const b = generateIdentity(suite);
      assert.equal(a.secretKey.length, 32);
      assert.deepEqual(a.publicKey, nodeCryptoSuite.ed25519PublicKey(a.secretKey));
      assert.notDeepEqual(a.publicKey, b.publicKey);
    }
  });

  it('identityFromSecret rebuilds the public key and rejects a wrong length', () => {
    const { secretKey, publicKey } = generateIdentity();
    assert.deepEqual(identityFromSecret(secretKey).publicKey, publicKey);
    assert.deepEqual(identityFromSecret(secretKey, nobleCryptoSuite).publicKey, publicKey);
    assert.throws(() => identityFromSecret(secretKey.subarray(1)), isInvalidArgument);
  });

  it('nodeIdToHex and dhtPosition', () => {
    const { publicKey } = generateIdentity();
    assert.equal(nodeIdToHex(publicKey), Buffer.from(publicKey).toString('hex'));
    assert.match(nodeIdToHex(publicKey), /^[0-9a-f]{64}$/);
    const position = dhtPosition(nodeCryptoSuite, publicKey);
    assert.deepEqual(position, nodeCryptoSuite.sha256(publicKey));
    assert.deepEqual(dhtPosition(nobleCryptoSuite, publicKey), position);
  });

  it('save/load round trip; file is 0600 JSON in the documented format; parent dir created', async () => {
    const path = join(dir, 'nested', 'deeper', 'id.json');
    const keyPair = generateIdentity();
    await saveIdentity(path, keyPair);
    const loaded = await loadIdentity(path);
    assert.deepEqual(loaded, keyPair);
    if (process.platform !== 'win32') assert.equal((await stat(path)).mode & 0o777, 0o600);
    const body = JSON.parse(await readFile(path, 'utf8'));
    assert.deepEqual(Object.keys(body).sort(), ['publicKey', 'secretKey', 'type', 'version']);
    assert.equal(body.type, 'mcc-mesh-identity');
    assert.equal(body.version, 1);
    assert.equal(body.secretKey, Buffer.from(keyPair.secretKey).toString('hex'));
    assert.equal(body.publicKey, nodeIdToHex(keyPair.publicKey));
    // No temp files are left beside it.
    assert.deepEqual(await readdir(join(dir, 'nested', 'deeper')), ['id.json']);
  });

  it('saving over an existing (world-readable) file replaces it atomically with a 0600 file', async () => {
    const path = join(dir, 'replace.json');
    await writeFile(path, 'old contents', { mode: 0o644 });
    const keyPair = generateIdentity();
    await saveIdentity(path, keyPair);
    assert.deepEqual(await loadIdentity(path), keyPair);
    if (process.platform !== 'win32') assert.equal((await stat(path)).mode & 0o777, 0o600);
  });

  it('saveIdentity refuses an inconsistent key pair', async () => {
    const a = generateIdentity();
    const b = generateIdentity();
    const path = join(dir, 'never.json');
    await assert.rejects(saveIdentity(path, { secretKey: a.secretKey, publicKey: b.publicKey }), isInvalidArgument);
    await assert.rejects(saveIdentity(path, { secretKey: a.secretKey.subarray(1), publicKey: a.publicKey }), isInvalidArgument);
    await assert.rejects(stat(path));
  });

  it('loadIdentity rejects missing, corrupted and mismatched files with ERR_IDENTITY', async () => {
    const good = generateIdentity();
    const other = generateIdentity();
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    const base = { type: 'mcc-mesh-identity', version: 1, secretKey: hex(good.secretKey), publicKey: hex(good.publicKey) };
    const cases: Record<string, string> = {
      truncated: JSON.stringify(base).slice(0, 40),
      notObject: '[1,2,3]',
      empty: '',
      wrongType: JSON.stringify({ ...base, type: 'ssh-key' }),
      wrongVersion: JSON.stringify({ ...base, version: 2 }),
      badHex: JSON.stringify({ ...base, secretKey: `zz${hex(good.secretKey).slice(2)}` }),
      shortSecret: JSON.stringify({ ...base, secretKey: hex(good.secretKey).slice(2) }),
      missingPublic: JSON.stringify({ ...base, publicKey: undefined }),
      mismatchedPublic: JSON.stringify({ ...base, publicKey: hex(other.publicKey) }),
    };
    for (const [name, contents] of Object.entries(cases)) {
      const path = join(dir, `${name}.json`);
      await writeFile(path, contents, { mode: 0o600 });
      await assert.rejects(loadIdentity(path), isIdentityError, name);
      // A damaged file is never silently replaced by loadOrCreate either.
      await assert.rejects(loadOrCreateIdentity(path), isIdentityError, name);
    }
    await assert.rejects(loadIdentity(join(dir, 'does-not-exist.json')), isIdentityError);
    await assert.rejects(
      loadIdentity(join(dir, 'mismatchedPublic.json')),
      (error: unknown) => isIdentityError(error) && /does not match/.test((error as Error).message),
    );
  });

  it('loadOrCreateIdentity creates once, then keeps returning the same identity', async () => {
    const path = join(dir, 'persist', 'node.json');
    const first = await loadOrCreateIdentity(path);
    const second = await loadOrCreateIdentity(path);
    assert.deepEqual(second, first);
    if (process.platform !== 'win32') assert.equal((await stat(path)).mode & 0o777, 0o600);
  });

  it('concurrent loadOrCreateIdentity calls agree on one identity', async () => {
    const path = join(dir, 'race.json');
    const results = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateIdentity(path)));
    const onDisk = await loadIdentity(path);
    for (const result of results) assert.deepEqual(result, onDisk);
    assert.deepEqual(
      (await readdir(dir)).filter((name) => name.includes('race.json')),
      ['race.json'],
    );
  });

  it('resolveIdentity: path, key pair, undefined, and bad values', async () => {
    const path = join(dir, 'resolve.json');
    const fromPath = await resolveIdentity(path, nodeCryptoSuite);
    assert.deepEqual(await resolveIdentity(path, nobleCryptoSuite), fromPath);

    const keyPair = generateIdentity();
    const resolved = await resolveIdentity(keyPair, nodeCryptoSuite);
    assert.deepEqual(resolved, keyPair);
    assert.notEqual(resolved.secretKey, keyPair.secretKey, 'the caller keeps ownership of its arrays');

    const a = await resolveIdentity(undefined, nodeCryptoSuite);
    const b = await resolveIdentity(undefined, nodeCryptoSuite);
    assert.notDeepEqual(a.publicKey, b.publicKey);

    await assert.rejects(resolveIdentity('', nodeCryptoSuite), isInvalidArgument);
    await assert.rejects(resolveIdentity({ secretKey: new Uint8Array(31), publicKey: new Uint8Array(32) }, nodeCryptoSuite), isInvalidArgument);
    await assert.rejects(resolveIdentity({ secretKey: keyPair.secretKey, publicKey: new Uint8Array(32) }, nodeCryptoSuite), isInvalidArgument);
    await assert.rejects(resolveIdentity(42 as unknown as string, nodeCryptoSuite), isInvalidArgument);
  });
});
