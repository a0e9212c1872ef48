/**
 * Property-based tests (fast-check) of the tunnel's receive-side bookkeeping against
 * reference models: RangeSet against a Set of integers, RecvStream reassembly against
 * the payload it was cut from. Fixed seeds: a failure prints its seed and counterexample
 * and replays exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RangeSet } from '../../src/tunnel/ranges.js';
import { RecvStream, RunBudget, TOO_MANY_GAPS } from '../../src/tunnel/recv-stream.js';

const SEED = 0x17ea55e;

// ---------------------------------------------------------------------------------------
// RangeSet against a Set<number> over a small universe (so that operations collide often).

const UNIVERSE = 80;

type RangeOp =
  | { op: 'add' | 'remove'; start: number; end: number }
  | { op: 'removeBelow'; value: number }
  | { op: 'truncate'; max: number }
  | { op: 'shift'; limit: number }
  | { op: 'clear' };

const bound = fc.integer({ min: 0, max: UNIVERSE });
const rangeOp: fc.Arbitrary<RangeOp> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('add' as const), start: bound, end: bound }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('remove' as const), start: bound, end: bound }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('removeBelow' as const), value: bound }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), max: fc.integer({ min: 0, max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('shift' as const), limit: fc.integer({ min: 1, max: 20 }) }) },
  { weight: 1, arbitrary: fc.constant<RangeOp>({ op: 'clear' }) },
);

/** The model's maximal runs of consecutive members, ascending, as [start, end). */
function intervalsOf(model: Set<number>): Array<[number, number]> {
  const sorted = [...model].sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  for (const v of sorted) {
    const last = out[out.length - 1];
    if (last && last[1] === v) last[1] = v + 1;
    else out.push([v, v + 1]);
  }
  return out;
}

function rangesOf(set: RangeSet): Array<[number, number]> {
  return Array.from({ length: set.count }, (_, i) => set.range(i));
}

/** Applies `op` to the model; returns what `shift` must return (undefined for the other operations). */
function applyToModel(model: Set<number>, op: RangeOp): [number, number] | null | undefined {
  switch (op.op) {
    case 'add':
      for (let v = op.start; v < op.end; v++) model.add(v);
      return undefined;
    case 'remove':
      for (let v = op.start; v < op.end; v++) model.delete(v);
      return undefined;
    case 'removeBelow':
      for (const v of [...model]) if (v < op.value) model.delete(v);
      return undefined;
    case 'truncate': {
      const intervals = intervalsOf(model);
      for (const [s, e] of intervals.slice(0, Math.max(0, intervals.length - op.max))) for (let v = s; v < e; v++) model.delete(v);
      return undefined;
    }
    case 'shift': {
      const first = intervalsOf(model)[0];
      if (!first) return null;
      const end = Math.min(first[1], first[0] + op.limit);
      for (let v = first[0]; v < end; v++) model.delete(v);
      return [first[0], end];
    }
    case 'clear':
      model.clear();
      return undefined;
  }
}

function applyToSet(set: RangeSet, op: RangeOp): [number, number] | null | undefined {
  switch (op.op) {
    case 'add':
      set.add(op.start, op.end);
      return undefined;
    case 'remove':
      set.remove(op.start, op.end);
      return undefined;
    case 'removeBelow':
      set.removeBelow(op.value);
      return undefined;
    case 'truncate':
      set.truncate(op.max);
      return undefined;
    case 'shift':
      return set.shift(op.limit);
    case 'clear':
      set.clear();
      return undefined;
  }
}

test('RangeSet behaves as a set of integers under random add/remove/removeBelow/truncate/shift/clear, and stays sorted, disjoint and merged', () => {
  fc.assert(
    fc.property(fc.array(rangeOp, { maxLength: 60, size: 'max' }), (ops) => {
      const set = new RangeSet();
      const model = new Set<number>();
      for (const op of ops) {
        const expected = applyToModel(model, op);
        const got = applyToSet(set, op);
        if (op.op === 'shift') assert.deepEqual(got, expected, `shift(${op.limit})`);
        // Same members, and the representation is canonical: exactly the model's maximal runs.
        const intervals = intervalsOf(model);
        assert.deepEqual(rangesOf(set), intervals, `after ${JSON.stringify(op)}`);
        assert.equal(set.empty, model.size === 0);
        assert.equal(set.min, intervals[0]?.[0]);
        assert.equal(set.max, intervals[intervals.length - 1]?.[1]);
        for (let v = -1; v <= UNIVERSE; v++) assert.equal(set.has(v), model.has(v), `has(${v})`);
      }
    }),
    { seed: SEED, numRuns: 1500 },
  );
});

test('RangeSet: appending ascending ranges (the fast path) gives the same set as adding them in any order', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 30 })), { maxLength: 40, size: 'max' }), (pairs) => {
      const ranges = pairs.map(([start, length]) => [start, start + length] as const);
      const ascending = new RangeSet();
      for (const [s, e] of [...ranges].sort((a, b) => a[0] - b[0])) ascending.add(s, e);
      const scrambled = new RangeSet();
      for (const [s, e] of ranges) scrambled.add(s, e);
      const model = new Set<number>();
      for (const [s, e] of ranges) for (let v = s; v < e; v++) model.add(v);
      assert.deepEqual(rangesOf(ascending), intervalsOf(model));
      assert.deepEqual(rangesOf(scrambled), intervalsOf(model));
    }),
    { seed: SEED, numRuns: 1000 },
  );
});

// ---------------------------------------------------------------------------------------
// RecvStream reassembly against the payload.

interface StreamFrame {
  offset: number;
  length: number;
  fin: boolean;
}

/**
 * A payload, the frames one sender might deliver for it (a cover of the payload cut at random,
 * plus overlapping extras and duplicates, in random order; FIN on the last piece of the cover
 * and possibly on extras that end at the end), and after which frames the application reads.
 */
const delivery = fc
  .record({
    payload: fc.oneof(fc.uint8Array({ maxLength: 64, size: 'max' }), fc.uint8Array({ maxLength: 3000, size: 'max' })),
    cuts: fc.array(fc.nat(), { maxLength: 40, size: 'max' }),
    extras: fc.array(fc.record({ start: fc.nat(), length: fc.nat({ max: 600 }), fin: fc.boolean() }), { maxLength: 15, size: 'max' }),
  })
  .chain(({ payload, cuts, extras }) => {
    const total = payload.length;
    const points = [...new Set(cuts.map((c) => (total === 0 ? 0 : c % total)))].filter((p) => p > 0).sort((a, b) => a - b);
    const edges = [0, ...points, total];
    const frames: StreamFrame[] = [];
    for (let i = 0; i + 1 < edges.length; i++) frames.push({ offset: edges[i], length: edges[i + 1] - edges[i], fin: i + 2 === edges.length });
    for (const extra of extras) {
      const offset = total === 0 ? 0 : extra.start % total;
      const length = Math.min(extra.length, total - offset);
      frames.push({ offset, length, fin: extra.fin && offset + length === total });
    }
    return fc.record({
      payload: fc.constant(payload),
      frames: fc.shuffledSubarray(frames, { minLength: frames.length, maxLength: frames.length }),
      reads: fc.array(fc.boolean(), { minLength: frames.length, maxLength: frames.length }),
    });
  });

function readAll(stream: RecvStream, into: Uint8Array[]): void {
  for (let chunk = stream.read(); chunk !== null; chunk = stream.read()) into.push(chunk.slice());
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

test('RecvStream: random chunking, reordering, duplication and overlap reassemble byte-exactly; flow-control accounting and run budget balance', () => {
  fc.assert(
    fc.property(delivery, fc.nat({ max: 5000 }), ({ payload, frames, reads }, slack) => {
      const budget = new RunBudget();
      const stream = new RecvStream(payload.length + slack, budget);
      const got: Uint8Array[] = [];
      let counted = 0;
      frames.forEach((frame, i) => {
        // Each frame carries its own copy, as each would arrive in its own packet.
        const result = stream.onData(frame.offset, payload.slice(frame.offset, frame.offset + frame.length), frame.fin);
        assert.equal(typeof result, 'number', `frame ${JSON.stringify(frame)} refused: ${result}`);
        counted += result as number;
        assert.ok(budget.used >= 0);
        if (reads[i]) readAll(stream, got);
        // What was read so far is always a prefix of the payload.
        const soFar = concat(got);
        assert.deepEqual(soFar, payload.subarray(0, soFar.length));
      });
      readAll(stream, got);
      assert.deepEqual(concat(got), payload);
      assert.equal(counted, payload.length, 'every byte counted against flow control exactly once');
      assert.equal(stream.highestReceived, payload.length);
      assert.equal(stream.finalSize, payload.length);
      assert.equal(stream.complete, true);
      assert.equal(stream.hasData, false);
      assert.equal(budget.used, 0, 'every run returned to the budget once drained');
    }),
    { seed: SEED, numRuns: 400 },
  );
});

test('RecvStream: data beyond the advertised window is refused as a flow-control violation', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 4096 }), fc.nat({ max: 8192 }), fc.integer({ min: 1, max: 2000 }), fc.boolean(), (window, offset, length, fin) => {
      const stream = new RecvStream(window);
      const result = stream.onData(offset, new Uint8Array(length), fin);
      if (offset + length > window) assert.equal(result, 'stream flow control exceeded');
      else assert.equal(result, offset + length);
    }),
    { seed: SEED, numRuns: 1000 },
  );
});

test('RecvStream: once the final size is known, data past it or a different FIN is refused; a FIN below received data too', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1000 }), fc.nat({ max: 1200 }), fc.nat({ max: 300 }), fc.boolean(), (finalSize, offset, length, fin) => {
      const stream = new RecvStream(4096);
      assert.equal(stream.onData(finalSize, new Uint8Array(0), true), finalSize);
      const end = offset + length;
      const result = stream.onData(offset, new Uint8Array(length), fin);
      if (end > finalSize || (fin && end !== finalSize)) assert.equal(result, 'final size changed');
      else assert.equal(typeof result, 'number');
    }),
    { seed: SEED, numRuns: 1000 },
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1000 }), fc.nat({ max: 999 }), (received, finAt) => {
      fc.pre(finAt < received);
      const stream = new RecvStream(4096);
      stream.onData(0, new Uint8Array(received), false);
      assert.equal(stream.onData(finAt, new Uint8Array(0), true), 'final size below received data');
    }),
    { seed: SEED, numRuns: 500 },
  );
});

test('RecvStream: gaps are bounded by the shared run budget, refused only when it is spent, and a reset or discard returns every run', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 12 }),
      fc.array(fc.record({ stream: fc.nat({ max: 2 }), offset: fc.integer({ min: 0, max: 400 }), length: fc.integer({ min: 1, max: 8 }) }), {
        maxLength: 80,
        size: 'max',
      }),
      (max, frames) => {
        const budget = new RunBudget(max);
        const streams = [new RecvStream(1024, budget), new RecvStream(1024, budget), new RecvStream(1024, budget)];
        const broken = new Set<number>();
        for (const frame of frames) {
          if (broken.has(frame.stream)) continue;
          const before = budget.used;
          const result = streams[frame.stream].onData(frame.offset, new Uint8Array(frame.length).fill(7), false);
          if (result === TOO_MANY_GAPS) {
            // Refused only when a new run was needed and none was left.
            assert.equal(before, max, 'refused while the budget had room');
            assert.ok(frame.offset > 0, 'a frame at the start of the stream is never refused');
            broken.add(frame.stream); // the connection closes: this stream is not used again
          } else {
            assert.equal(typeof result, 'number');
          }
          assert.ok(budget.used <= max, `budget overrun: ${budget.used} > ${max}`);
          assert.ok(budget.used >= 0);
        }
        // Reset one stream, discard the others: every run goes back.
        streams[0].onReset(0, Math.max(streams[0].highestReceived, 0));
        streams[1].discard();
        streams[2].discard();
        assert.equal(budget.used, 0);
      },
    ),
    { seed: SEED, numRuns: 1500 },
  );
});
