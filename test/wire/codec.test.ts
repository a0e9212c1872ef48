import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MccError } from '../../src/errors.js';
import { decodeEnvelope, encodeEnvelope, envelopeBodyKind, EnvelopeBodyKinds, type Envelope } from '../../src/wire/codec.js';
import { EnvelopeCodec } from '../../src/wire/generated/mcc.types.js';
import {
  MAX_DATAGRAM_SIZE,
  MAX_ENVELOPE_SIZE,
  PACKET_RELAYED,
  PACKET_SESSION,
  PACKET_TUNNEL,
  PROTOCOL_VERSION,
  SESSION_HEADER_SIZE,
  SESSION_OVERHEAD,
} from '../../src/wire/constants.js';

function isDecodeError(err: unknown): boolean {
  return err instanceof MccError && err.code === 'ERR_DECODE';
}

test('constants match the documented layout', () => {
  assert.equal(PROTOCOL_VERSION, 1);
  assert.equal(MAX_DATAGRAM_SIZE, 1200);
  assert.equal(PACKET_SESSION, 0x11);
  assert.equal(PACKET_TUNNEL, 0x12);
  assert.equal(PACKET_RELAYED, 0x13);
  assert.equal(SESSION_HEADER_SIZE, 49);
  assert.equal(SESSION_OVERHEAD, 65);
  assert.equal(MAX_ENVELOPE_SIZE, 1135);
});

test('a Ping with rid 7 encodes to the documented bytes', () => {
  assert.equal(Buffer.from(encodeEnvelope({ version: 1, rid: 7, ping: {} })).toString('hex'), '080110075200');
});

test('every foundation body kind round-trips and is identified', () => {
  const bodies: Envelope[] = [
    { version: 1, rid: 1, ping: {} },
    { version: 1, rid: 1, response: true, newToken: new Uint8Array([9, 9]), pong: { observed: { ip: new Uint8Array([127, 0, 0, 1]), port: 4100 } } },
    { version: 1, rid: 2, response: true, cookie: { token: new Uint8Array(16).fill(3) } },
    { version: 1, rid: 3, response: true, error: { code: 5, message: 'nope ✓' } },
  ];
  assert.deepEqual(
    bodies.map((b) => envelopeBodyKind(b)),
    [...EnvelopeBodyKinds].slice(0, 4),
  );
  for (const original of bodies) {
    const decoded = decodeEnvelope(encodeEnvelope(original));
    const kind = envelopeBodyKind(original)!;
    assert.equal(decoded.body, kind);
    assert.equal(envelopeBodyKind(decoded), kind);
    assert.equal(decoded.rid, original.rid);
    assert.equal(decoded.version, 1);
    assert.equal(Boolean(decoded.response), Boolean(original.response));
    for (const other of EnvelopeBodyKinds) if (other !== kind) assert.equal(decoded[other] ?? null, null);
  }
  const pong = decodeEnvelope(encodeEnvelope(bodies[1]));
  assert.deepEqual([...pong.pong!.observed!.ip!], [127, 0, 0, 1]);
  assert.equal(pong.pong!.observed!.port, 4100);
  assert.deepEqual([...pong.newToken!], [9, 9]);
  const error = decodeEnvelope(encodeEnvelope(bodies[3]));
  assert.equal(error.error!.message, 'nope ✓');
  assert.equal(error.error!.code, 5);
});

test('absent fields decode to proto3 defaults and no body', () => {
  const decoded = decodeEnvelope(new Uint8Array(0));
  assert.equal(decoded.rid ?? 0, 0);
  assert.equal(decoded.token?.length ?? 0, 0);
  assert.equal(envelopeBodyKind(decoded), undefined);
});

test('when a body member repeats on the wire, the last one wins (oneof semantics)', () => {
  const ping = encodeEnvelope({ ping: {} });
  const cookie = encodeEnvelope({ cookie: { token: new Uint8Array([1]) } });
  const decoded = decodeEnvelope(Buffer.concat([ping, cookie]));
  assert.equal(decoded.body, 'cookie');
  assert.equal(decoded.ping ?? null, null);
});

test('unknown fields from a newer peer are tolerated', () => {
  const known = encodeEnvelope({ version: 1, rid: 7, ping: {} });
  const unknown = Buffer.from([
    0xb8,
    0x3e,
    0x2a, // field 999, varint 42
    0xa2,
    0x1f,
    0x03,
    0x61,
    0x62,
    0x63, // field 500 (a body some future version adds), bytes "abc"
    0x3d,
    1,
    2,
    3,
    4, // field 7, fixed32
    0x41,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8, // field 8, fixed64
  ]);
  for (const bytes of [Buffer.concat([known, unknown]), Buffer.concat([unknown, known])]) {
    const decoded = decodeEnvelope(bytes);
    assert.equal(decoded.rid, 7);
    assert.equal(decoded.version, 1);
    assert.equal(envelopeBodyKind(decoded), 'ping');
  }
});

test('malformed input throws MccError ERR_DECODE', () => {
  const cases = [
    [0x52, 0x05, 0x00], // ping length beyond the end
    [0x08], // varint missing
    [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // overlong varint
    [0x0f], // wire type 7 does not exist
    [0x22, 0x80], // truncated length
    [0x5a, 0x02, 0x0a, 0x05], // pong.observed length beyond the pong
  ];
  for (const bytes of cases) assert.throws(() => decodeEnvelope(new Uint8Array(bytes)), isDecodeError, `case ${bytes}`);
});

test('random bytes either decode or throw ERR_DECODE, never anything else', () => {
  let seed = 12345;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
  for (let i = 0; i < 5000; i++) {
    const bytes = new Uint8Array(1 + (next() % 64));
    for (let j = 0; j < bytes.length; j++) bytes[j] = next();
    try {
      decodeEnvelope(bytes);
    } catch (err) {
      assert.ok(isDecodeError(err), `unexpected ${String(err)}`);
    }
  }
});

test('an exception from the decoder that is not a wire error is a bug: it propagates as it is, not as ERR_DECODE', () => {
  const codec = EnvelopeCodec as unknown as { decode: (bytes: Uint8Array) => Envelope };
  const decode = codec.decode;
  try {
    codec.decode = () => {
      throw new TypeError("Cannot read properties of undefined (reading 'pos')");
    };
    assert.throws(
      () => decodeEnvelope(new Uint8Array([0x08, 0x01])),
      (err: unknown) => err instanceof TypeError && !isDecodeError(err),
    );
    codec.decode = () => {
      throw new Error('something else went wrong');
    };
    assert.throws(
      () => decodeEnvelope(new Uint8Array([0x08, 0x01])),
      (err: unknown) => err instanceof Error && !isDecodeError(err),
    );
  } finally {
    codec.decode = decode;
  }
  assert.throws(() => decodeEnvelope(new Uint8Array([0x08])), isDecodeError, 'wire errors still are ERR_DECODE');
});

test('encoding refuses envelopes that cannot fit in one datagram', () => {
  const fits = encodeEnvelope({ ping: {}, padding: new Uint8Array(MAX_ENVELOPE_SIZE - 5) });
  assert.equal(fits.length, MAX_ENVELOPE_SIZE);
  assert.throws(
    () => encodeEnvelope({ ping: {}, padding: new Uint8Array(MAX_ENVELOPE_SIZE - 4) }),
    (err: unknown) => err instanceof MccError && err.code === 'ERR_DATAGRAM_TOO_LARGE',
  );
  assert.equal(encodeEnvelope({ ping: {}, padding: new Uint8Array(2000) }, 4000).length, 2005);
});
