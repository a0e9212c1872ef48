import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeEnvelope, encodeContactEntry, encodeEnvelope, withEncodedContacts, type Contact, type DhtRecord, type Envelope } from '../../src/wire/codec.js';
import { ContactCodec, EnvelopeCodec, FindNodeResultCodec } from '../../src/wire/generated/mcc.types.js';

const PORTS = [0, 1, 127, 128, 16383, 16384, 65535];

function contacts(count: number, seed: number): Contact[] {
  const out: Contact[] = [];
  for (let i = 0; i < count; i++) {
    const ip = (seed + i) % 2 === 0 ? randomBytes(4) : randomBytes(16);
    out.push({ id: randomBytes(32), address: { ip, port: PORTS[(seed + i) % PORTS.length] } });
  }
  return out;
}

function entries(list: Contact[]): Uint8Array[] {
  return list.map((c) => encodeContactEntry(c.id!, c.address!.ip!, c.address!.port ?? 0));
}

/** Byte equality (the generated encoder returns Buffers in Node, ours plain Uint8Arrays). */
function sameBytes(actual: Uint8Array, expected: Uint8Array): void {
  assert.deepEqual(Buffer.from(actual), Buffer.from(expected));
}

const record = (): DhtRecord => ({
  author: randomBytes(32),
  seq: 7,
  expiresAt: 1.7e12,
  value: randomBytes(90),
  salt: new Uint8Array(0),
  withdrawn: false,
  signature: randomBytes(64),
});

test("one contact entry is the generated encoder's repeated-field element", () => {
  for (const port of PORTS) {
    for (const ip of [randomBytes(4), randomBytes(16), new Uint8Array(0)]) {
      const contact: Contact = { id: randomBytes(32), address: { ip, port } };
      const generated = FindNodeResultCodec.encode({ contacts: [contact] }).finish();
      sameBytes(encodeContactEntry(contact.id!, ip, port), generated);
      // And the inner message is exactly ContactCodec's.
      const inner = ContactCodec.encode(contact).finish();
      sameBytes(generated.subarray(generated.length - inner.length), inner);
    }
  }
});

test('FIND answers built from encoded contacts are byte-identical to the generated encoding', () => {
  const headers: Array<Partial<Envelope>> = [
    { version: 1, rid: 1, response: true },
    { version: 1, rid: 0xffffffff, response: true, newToken: randomBytes(16) },
    { version: 1, rid: 300, response: true, token: randomBytes(16), newToken: randomBytes(16), padding: randomBytes(200) },
    { rid: 5 },
    {},
  ];
  let cases = 0;
  for (const header of headers) {
    for (const count of [0, 1, 7, 20]) {
      const list = contacts(count, count);
      for (const token of [undefined, randomBytes(16)]) {
        const plain: Envelope = { ...header, findNodeResult: { contacts: list, ...(token ? { token } : {}) } };
        const fast: Envelope = { ...header, findNodeResult: withEncodedContacts({ contacts: [], ...(token ? { token } : {}) }, entries(list)) };
        sameBytes(encodeEnvelope(fast, 1 << 16), EnvelopeCodec.encode(plain).finish());
        cases++;
      }
      for (const extra of [{}, { total: 3 }, { token: randomBytes(16), records: [record(), record()], offset: 2, total: 9 }]) {
        const plain: Envelope = { ...header, findValueResult: { contacts: list, ...extra } };
        const fast: Envelope = { ...header, findValueResult: withEncodedContacts({ contacts: [], ...extra }, entries(list)) };
        const bytes = encodeEnvelope(fast, 1 << 16);
        sameBytes(bytes, EnvelopeCodec.encode(plain).finish());
        // And it decodes back to the same contacts.
        assert.equal(decodeEnvelope(bytes).findValueResult?.contacts?.length, count);
        cases++;
      }
    }
  }
  assert.equal(cases, 5 * 4 * 5);
});

test('the size limit applies to answers built from encoded contacts', () => {
  const list = contacts(40, 1);
  const fast: Envelope = { version: 1, rid: 9, response: true, findNodeResult: withEncodedContacts({ contacts: [] }, entries(list)) };
  assert.throws(
    () => encodeEnvelope(fast),
    (error: { code?: string }) => error.code === 'ERR_DATAGRAM_TOO_LARGE',
  );
});
