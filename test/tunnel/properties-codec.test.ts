/**
 * Property-based tests (fast-check) of the tunnel's wire codec: QUIC varints and frames,
 * each against a reference model written independently of the code under test.
 * Fixed seeds: a failure prints its seed and counterexample and replays exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ByteReader, MAX_VARINT, varintLength, writeVarint } from '../../src/tunnel/varint.js';
import {
  FrameType,
  ackFrameLength,
  decodeFrames,
  encodeClose,
  varintFrameLength,
  writeAck,
  writeStreamHeader,
  writeVarintFrame,
  type FrameSink,
} from '../../src/tunnel/frames.js';

const SEED = 0x17c0dec;
const RUNS = 2000;

// ---------------------------------------------------------------------------------------
// Varints: reference model on BigInt (RFC 9000 §16: two length bits, big-endian value).

/** The RFC 9000 encoding of `value` in exactly `length` bytes (1, 2, 4 or 8). */
function referenceVarint(value: bigint, length: 1 | 2 | 4 | 8): Uint8Array {
  const out = new Uint8Array(length);
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  out[0] |= { 1: 0x00, 2: 0x40, 4: 0x80, 8: 0xc0 }[length];
  return out;
}

/** Smallest RFC 9000 length for `value`. */
function referenceLength(value: number): 1 | 2 | 4 | 8 {
  if (value <= 63) return 1;
  if (value <= 16383) return 2;
  if (value <= 1073741823) return 4;
  return 8;
}

/** Values spread over every length class and its edges, not only small ones. */
const varintValue = fc.oneof(
  fc.integer({ min: 0, max: 63 }),
  fc.integer({ min: 64, max: 16383 }),
  fc.integer({ min: 16384, max: 1073741823 }),
  fc.integer({ min: 1073741824, max: MAX_VARINT }),
  fc.constantFrom(0, 63, 64, 16383, 16384, 1073741823, 1073741824, 2 ** 32 - 1, 2 ** 32, MAX_VARINT),
);

test('varint: writeVarint emits exactly the RFC 9000 minimal encoding, varintLength its length, and ByteReader reads it back', () => {
  fc.assert(
    fc.property(varintValue, fc.nat({ max: 7 }), (value, at) => {
      const length = referenceLength(value);
      assert.equal(varintLength(value), length);
      const buf = new Uint8Array(at + 8).fill(0xee);
      const end = writeVarint(buf, at, value);
      assert.equal(end - at, length);
      assert.deepEqual(buf.subarray(at, end), referenceVarint(BigInt(value), length));
      assert.ok(
        buf.subarray(end).every((b) => b === 0xee),
        'nothing written past the varint',
      );
      const reader = new ByteReader(buf, at);
      assert.equal(reader.varint(), value);
      assert.equal(reader.offset, end);
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

test('varint: non-minimal encodings decode to the same value (RFC 9000 allows them)', () => {
  fc.assert(
    fc.property(varintValue, fc.constantFrom<1 | 2 | 4 | 8>(1, 2, 4, 8), (value, length) => {
      fc.pre(length >= referenceLength(value));
      const reader = new ByteReader(referenceVarint(BigInt(value), length));
      assert.equal(reader.varint(), value);
      assert.equal(reader.remaining, 0);
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

test('varint: any bytes decode to the model value, or -1 when short or above 2^53-1; never throws', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 10 }), fc.nat({ max: 10 }), (bytes, endCut) => {
      const end = Math.min(endCut, bytes.length);
      const reader = new ByteReader(bytes, 0, end);
      const got = reader.varint();
      if (end === 0) return assert.equal(got, -1);
      const length = 1 << (bytes[0] >>> 6);
      if (length > end) {
        assert.equal(got, -1);
        assert.equal(reader.offset, 0, 'a short read does not advance');
        return;
      }
      let model = BigInt(bytes[0] & 0x3f);
      for (let i = 1; i < length; i++) model = (model << 8n) | BigInt(bytes[i]);
      assert.equal(got, model > BigInt(MAX_VARINT) ? -1 : Number(model));
      assert.equal(reader.offset, length);
    }),
    { seed: SEED, numRuns: RUNS * 2 },
  );
});

test('varint: 8-byte encodings decode exactly up to 2^53-1 and are refused (-1) above, up to 2^62-1', () => {
  const limit = BigInt(MAX_VARINT);
  const value = fc.oneof(
    fc.bigInt({ min: 0n, max: 2n ** 62n - 1n }),
    fc.bigInt({ min: limit - 4096n, max: limit + 4096n }),
    fc.bigInt({ min: 0n, max: 2n ** 24n }).map((low) => (limit + 1n) * 2n - low), // near 2^54
    fc.constantFrom(limit, limit + 1n, 2n ** 62n - 1n, 2n ** 32n),
  );
  fc.assert(
    fc.property(value, (v) => {
      const reader = new ByteReader(referenceVarint(v, 8));
      const got = reader.varint();
      assert.equal(got, v > limit ? -1 : Number(v));
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

// ---------------------------------------------------------------------------------------
// Frames: a plain-object model of every frame kind, encoded with the codec's writers.

type Frame =
  | { kind: 'padding' }
  | { kind: 'ping' }
  | { kind: 'ack'; ranges: number[]; delay: number }
  | { kind: 'stream'; id: number; offset: number; data: Uint8Array; fin: boolean }
  | { kind: 'reset'; id: number; code: number; finalSize: number }
  | { kind: 'stop'; id: number; code: number }
  | { kind: 'maxData'; max: number }
  | { kind: 'maxStreamData'; id: number; max: number }
  | { kind: 'challenge'; data: Uint8Array }
  | { kind: 'response'; data: Uint8Array }
  | { kind: 'close'; code: number; reason: string };

/** ACK ranges ([high, low] pairs, highest first, at least one missing number between two ranges), built bottom-up. */
const ackRanges = fc
  .record({
    base: fc.oneof(fc.nat({ max: 1000 }), fc.nat({ max: 2 ** 40 })),
    steps: fc.array(
      fc.record({ gap: fc.oneof(fc.nat({ max: 70 }), fc.nat({ max: 2 ** 20 })), length: fc.oneof(fc.nat({ max: 70 }), fc.nat({ max: 2 ** 20 })) }),
      { minLength: 1, maxLength: 40, size: 'medium' },
    ),
  })
  .map(({ base, steps }) => {
    const ascending: number[] = [];
    let low = base;
    for (const { gap, length } of steps) {
      ascending.push(low, low + length);
      low = low + length + gap + 2;
    }
    const ranges: number[] = [];
    for (let i = ascending.length - 2; i >= 0; i -= 2) ranges.push(ascending[i + 1], ascending[i]);
    return ranges;
  });

const id = fc.oneof(fc.nat({ max: 100 }), fc.nat({ max: MAX_VARINT }));
const big = fc.oneof(fc.nat({ max: 70_000 }), fc.nat({ max: MAX_VARINT }));

const frame: fc.Arbitrary<Frame> = fc
  .oneof(
    fc.constant<Frame>({ kind: 'padding' }),
    fc.constant<Frame>({ kind: 'ping' }),
    fc.record({ kind: fc.constant('ack' as const), ranges: ackRanges, delay: big }),
    fc.record({ kind: fc.constant('stream' as const), id, offset: big, data: fc.uint8Array({ maxLength: 80, size: 'max' }), fin: fc.boolean() }),
    fc.record({ kind: fc.constant('reset' as const), id, code: big, finalSize: big }),
    fc.record({ kind: fc.constant('stop' as const), id, code: big }),
    fc.record({ kind: fc.constant('maxData' as const), max: big }),
    fc.record({ kind: fc.constant('maxStreamData' as const), id, max: big }),
    fc.record({ kind: fc.constant('challenge' as const), data: fc.uint8Array({ minLength: 8, maxLength: 8 }) }),
    fc.record({ kind: fc.constant('response' as const), data: fc.uint8Array({ minLength: 8, maxLength: 8 }) }),
    fc.record({
      kind: fc.constant('close' as const),
      code: big,
      reason: fc.oneof(fc.string({ unit: 'binary', maxLength: 80, size: 'max' }), fc.string({ maxLength: 260, size: 'max' })),
    }),
  )
  .map((f) => ({ ...f })); // fc.record builds null-prototype objects; deepStrictEqual compares prototypes

/** Encodes one frame with the codec's writers; checks each writer's length function on the way. */
function encodeFrame(f: Frame): Uint8Array {
  const buf = new Uint8Array(2048);
  let at: number;
  switch (f.kind) {
    case 'padding':
      buf[0] = FrameType.PADDING;
      at = 1;
      break;
    case 'ping':
      at = writeVarintFrame(buf, 0, FrameType.PING);
      assert.equal(at, varintFrameLength());
      break;
    case 'ack':
      at = writeAck(buf, 0, f.ranges, f.delay);
      assert.equal(at, ackFrameLength(f.ranges, f.delay), 'ackFrameLength matches what writeAck writes');
      break;
    case 'stream':
      at = writeStreamHeader(buf, 0, f.id, f.offset, f.data.length, f.fin);
      assert.equal(at, varintFrameLength(f.id, f.offset, f.data.length));
      buf.set(f.data, at);
      at += f.data.length;
      break;
    case 'reset':
      at = writeVarintFrame(buf, 0, FrameType.RESET_STREAM, f.id, f.code, f.finalSize);
      assert.equal(at, varintFrameLength(f.id, f.code, f.finalSize));
      break;
    case 'stop':
      at = writeVarintFrame(buf, 0, FrameType.STOP_SENDING, f.id, f.code);
      assert.equal(at, varintFrameLength(f.id, f.code));
      break;
    case 'maxData':
      at = writeVarintFrame(buf, 0, FrameType.MAX_DATA, f.max);
      assert.equal(at, varintFrameLength(f.max));
      break;
    case 'maxStreamData':
      at = writeVarintFrame(buf, 0, FrameType.MAX_STREAM_DATA, f.id, f.max);
      assert.equal(at, varintFrameLength(f.id, f.max));
      break;
    case 'challenge':
    case 'response':
      // As path-validation.ts writes them: the type byte and the 8 bytes.
      buf[0] = f.kind === 'challenge' ? FrameType.PATH_CHALLENGE : FrameType.PATH_RESPONSE;
      buf.set(f.data, 1);
      at = 9;
      break;
    case 'close': {
      const bytes = encodeClose(f.code, f.reason);
      buf.set(bytes);
      at = bytes.length;
      break;
    }
  }
  return buf.slice(0, at);
}

/**
 * What decoding `f` must report: the frame itself, but a CLOSE reason as its first 200 UTF-8
 * bytes read back leniently (a character cut in half becomes U+FFFD; a string of at most 200
 * bytes comes back unchanged).
 */
function expectedDecode(f: Frame): Frame {
  if (f.kind !== 'close') return f;
  return { ...f, reason: new TextDecoder().decode(new TextEncoder().encode(f.reason).subarray(0, 200)) };
}

/** A sink that records every frame as the model's plain objects (data copied out of the packet). */
function recordingSink(out: Frame[]): FrameSink {
  return {
    onPing: () => void out.push({ kind: 'ping' }),
    onAck: (ranges, delay) => (out.push({ kind: 'ack', ranges: [...ranges], delay }), true),
    onStream: (id, offset, data, fin) => (out.push({ kind: 'stream', id, offset, data: data.slice(), fin }), true),
    onResetStream: (id, code, finalSize) => (out.push({ kind: 'reset', id, code, finalSize }), true),
    onStopSending: (id, code) => (out.push({ kind: 'stop', id, code }), true),
    onMaxData: (max) => void out.push({ kind: 'maxData', max }),
    onMaxStreamData: (id, max) => (out.push({ kind: 'maxStreamData', id, max }), true),
    onPathChallenge: (data) => void out.push({ kind: 'challenge', data: data.slice() }),
    onPathResponse: (data) => void out.push({ kind: 'response', data: data.slice() }),
    onClose: (code, reason) => void out.push({ kind: 'close', code, reason }),
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

test('frames: any sequence of frames of every kind decodes to the same frames, in order (PADDING is silent)', () => {
  fc.assert(
    fc.property(fc.array(frame, { maxLength: 12, size: 'max' }), (frames) => {
      const payload = concat(frames.map(encodeFrame));
      const decoded: Frame[] = [];
      assert.equal(decodeFrames(payload, recordingSink(decoded)), true);
      assert.deepEqual(decoded, frames.filter((f) => f.kind !== 'padding').map(expectedDecode));
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

test('frames: every frame kind round-trips on its own (each kind is generated, not left to chance)', () => {
  const kinds = ['padding', 'ping', 'ack', 'stream', 'reset', 'stop', 'maxData', 'maxStreamData', 'challenge', 'response', 'close'];
  const seen = new Set<string>();
  fc.assert(
    fc.property(frame, (f) => {
      seen.add(f.kind);
      const decoded: Frame[] = [];
      assert.equal(decodeFrames(encodeFrame(f), recordingSink(decoded)), true);
      assert.deepEqual(decoded, f.kind === 'padding' ? [] : [expectedDecode(f)]);
    }),
    { seed: SEED, numRuns: RUNS },
  );
  assert.deepEqual([...seen].sort(), [...kinds].sort());
});

test('frames: a frame cut short anywhere is reported as malformed (false), never misread', () => {
  fc.assert(
    fc.property(
      frame.filter((f) => f.kind !== 'padding' && f.kind !== 'ping'),
      fc.nat(),
      (f, cut) => {
        const bytes = encodeFrame(f);
        const at = 1 + (cut % (bytes.length - 1)); // keep the type byte, lose at least one byte
        const decoded: Frame[] = [];
        const truncated = bytes.subarray(0, at);
        const ok = decodeFrames(truncated, recordingSink(decoded));
        assert.equal(ok, false, `${f.kind} cut to ${at} of ${bytes.length} bytes was accepted`);
        assert.deepEqual(decoded, [], 'nothing from the cut frame reaches the sink');
      },
    ),
    { seed: SEED, numRuns: RUNS },
  );
});

test('frames: arbitrary bytes never throw; the result is a boolean and every reported value is in range', () => {
  const inRange = (...values: number[]): void => {
    for (const v of values) assert.ok(Number.isSafeInteger(v) && v >= 0, `value ${v} out of range`);
  };
  const sink: FrameSink = {
    onPing() {},
    onAck(ranges, delay) {
      inRange(delay, ...ranges);
      assert.ok(ranges.length >= 2 && ranges.length % 2 === 0);
      for (let i = 0; i < ranges.length; i += 2) {
        assert.ok(ranges[i] >= ranges[i + 1], 'each range has high >= low');
        if (i > 0) assert.ok(ranges[i - 1] - ranges[i] >= 2, 'ranges descend with a gap');
      }
      return true;
    },
    // Each value is in range; their sum (the stream end) may pass 2^53-1: RecvStream refuses
    // such an end as beyond the flow-control window, the codec does not check it.
    onStream: (id, offset, data) => (inRange(id, offset, data.length), true),
    onResetStream: (id, code, finalSize) => (inRange(id, code, finalSize), true),
    onStopSending: (id, code) => (inRange(id, code), true),
    onMaxData: (max) => inRange(max),
    onMaxStreamData: (id, max) => (inRange(id, max), true),
    onPathChallenge: (data) => assert.equal(data.length, 8),
    onPathResponse: (data) => assert.equal(data.length, 8),
    onClose: (code, reason) => (inRange(code), assert.equal(typeof reason, 'string')),
  };
  // Raw random bytes, and random bytes behind a valid frame type (to get past the first switch).
  const typeBytes = Object.values(FrameType);
  const payload = fc.oneof(
    fc.uint8Array({ maxLength: 300, size: 'max' }),
    fc.tuple(fc.constantFrom(...typeBytes), fc.uint8Array({ maxLength: 60 })).map(([type, rest]) => concat([Uint8Array.of(type), rest])),
    fc.tuple(fc.array(frame, { maxLength: 4 }), fc.uint8Array({ maxLength: 20 })).map(([frames, tail]) => concat([...frames.map(encodeFrame), tail])),
  );
  fc.assert(
    fc.property(payload, (bytes) => {
      const result = decodeFrames(bytes, sink);
      assert.equal(typeof result, 'boolean');
    }),
    { seed: SEED, numRuns: RUNS * 3 },
  );
});

test('frames: a sink refusing a frame makes the whole payload malformed', () => {
  fc.assert(
    fc.property(fc.array(frame, { minLength: 1, maxLength: 6 }), fc.nat(), (frames, pick) => {
      const refusable = frames.filter((f) => ['ack', 'stream', 'reset', 'stop', 'maxStreamData'].includes(f.kind));
      fc.pre(refusable.length > 0);
      const victim = refusable[pick % refusable.length];
      const decoded: Frame[] = [];
      const base = recordingSink(decoded);
      let refused = false;
      const refuse =
        <A extends unknown[]>(kind: Frame['kind'], inner: (...args: A) => boolean) =>
        (...args: A): boolean => {
          inner(...args);
          if (decoded.length === 0 || refused) return true;
          const last = decoded[decoded.length - 1];
          if (last.kind === kind && JSON.stringify(last) === JSON.stringify(victim)) refused = true;
          return !refused;
        };
      const sink: FrameSink = {
        ...base,
        onAck: refuse('ack', base.onAck),
        onStream: refuse('stream', base.onStream),
        onResetStream: refuse('reset', base.onResetStream),
        onStopSending: refuse('stop', base.onStopSending),
        onMaxStreamData: refuse('maxStreamData', base.onMaxStreamData),
      };
      assert.equal(decodeFrames(concat(frames.map(encodeFrame)), sink), false);
      assert.ok(refused);
    }),
    { seed: SEED, numRuns: RUNS / 2 },
  );
});
