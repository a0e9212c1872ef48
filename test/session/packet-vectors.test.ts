import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeCryptoSuite } from '../../src/crypto/node-suite.js';
import { suites } from '../helpers/suites.js';
import { decodeEnvelope } from '../../src/wire/codec.js';
import { openSessionDatagram, parseSessionHeader } from '../../src/session/packet.js';
import { PeerKeyCache } from '../../src/session/keys.js';
import { computeProtocolVectors, readDocumentedVectors, renderVectors, VECTOR_INPUTS } from '../../scripts/protocol-vectors.js';

const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));

test('every available crypto suite computes identical protocol vectors', () => {
  const expected = computeProtocolVectors(nodeCryptoSuite);
  for (const suite of suites) assert.deepEqual(computeProtocolVectors(suite), expected, suite.name);
});

test('docs/protocol.md holds the current vectors (run scripts/protocol-vectors.ts --write if this fails)', () => {
  const documented = readDocumentedVectors();
  assert.ok(documented, 'vector markers missing from docs/protocol.md');
  for (const suite of suites) {
    assert.equal(documented, renderVectors(computeProtocolVectors(suite)), suite.name);
  }
});

test('the documented datagram opens with every suite as the receiver', () => {
  const vectors = computeProtocolVectors(nodeCryptoSuite);
  const datagram = fromHex(vectors.datagram);
  assert.equal(datagram.length, 49 + 6 + 16);
  for (const suite of suites) {
    const b = { secretKey: VECTOR_INPUTS.seedB, publicKey: suite.ed25519PublicKey(VECTOR_INPUTS.seedB) };
    const header = parseSessionHeader(datagram)!;
    assert.equal(header.counter, VECTOR_INPUTS.counter);
    const plaintext = openSessionDatagram(suite, new PeerKeyCache(suite, b).receiveKey(header.senderId, header.bootId), datagram);
    assert.ok(plaintext, suite.name);
    const envelope = decodeEnvelope(plaintext);
    assert.equal(envelope.rid, 7);
    assert.equal(envelope.body, 'ping');
  }
});
