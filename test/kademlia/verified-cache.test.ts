import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateIdentity, nodeCryptoSuite } from '../../src/crypto/index.js';
import { checkRecord, signRecord } from '../../src/kademlia/record.js';
import { verifiedCacheStats } from '../../src/kademlia/verified-cache.js';

const suite = nodeCryptoSuite;
const key = new Uint8Array(32).fill(5);
const now = 1_700_000_000_000;

describe('verified-record cache', () => {
  it('verifies a record once, however many holders serve it', () => {
    const record = signRecord(suite, generateIdentity(suite), { key, seq: 3, expiresAt: now + 60_000, value: new TextEncoder().encode('hello') });
    const before = { ...verifiedCacheStats };
    for (let i = 0; i < 20; i++) assert.equal(checkRecord(suite, { ...record, value: Uint8Array.from(record.value) }, key, now, 3600_000), null);
    assert.equal(verifiedCacheStats.verifications - before.verifications, 1);
    assert.equal(verifiedCacheStats.hits - before.hits, 19);
  });

  it('never lets a cached signature vouch for altered fields', () => {
    const record = signRecord(suite, generateIdentity(suite), { key, seq: 3, expiresAt: now + 60_000, value: new TextEncoder().encode('hello') });
    assert.equal(checkRecord(suite, record, key, now, 3600_000), null);
    const altered = [
      { ...record, value: new TextEncoder().encode('hellO') },
      { ...record, seq: 4 },
      { ...record, expiresAt: record.expiresAt + 1 },
      { ...record, withdrawn: true, value: new Uint8Array(0) },
      { ...record, salt: new Uint8Array([1]) },
    ];
    for (const forged of altered) assert.equal(checkRecord(suite, forged, key, now, 3600_000), 'signature');
    // Failures are not cached: the same forgery is checked (and refused) again.
    const before = verifiedCacheStats.verifications;
    assert.equal(checkRecord(suite, altered[0], key, now, 3600_000), 'signature');
    assert.equal(verifiedCacheStats.verifications - before, 1);
  });
});
