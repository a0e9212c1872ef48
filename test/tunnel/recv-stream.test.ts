/** RecvStream reassembly: byte-exact under reordering, overlaps and duplicates; bounded gaps. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloseCode } from '../../src/tunnel/connection.js';
import { writeStreamHeader } from '../../src/tunnel/frames.js';
import { MAX_PENDING_RUNS, RecvStream, RunBudget, TOO_MANY_GAPS } from '../../src/tunnel/recv-stream.js';
import { mulberry32 } from '../../src/util/random.js';
import { sansIoPair } from './helpers.js';

const MiB = 1024 * 1024;

/** Seeded PRNG: every run sees the same frames. */
const prng = mulberry32;

function randomBytes(length: number, rnd: () => number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (rnd() * 256) | 0;
  return out;
}

interface Frame {
  offset: number;
  length: number;
}

/** Frames covering [0, total) once, plus overlapping extras and duplicates, in random order. */
function scrambledFrames(total: number, maxLen: number, rnd: () => number, localReorder: number): Frame[] {
  const frames: Frame[] = [];
  for (let at = 0; at < total;) {
    const length = Math.min(total - at, 1 + ((rnd() * maxLen) | 0));
    frames.push({ offset: at, length });
    at += length;
  }
  const cover = frames.length;
  for (let i = 0; i < cover / 3; i++) {
    const offset = (rnd() * total) | 0;
    frames.push({ offset, length: Math.min(total - offset, 1 + ((rnd() * 3 * maxLen) | 0)) });
  }
  for (let i = 0; i < cover / 5; i++) frames.push({ ...frames[(rnd() * frames.length) | 0] });
  if (localReorder > 0) {
    // Network-like: extras and duplicates land near their place, each frame moves at most a little.
    frames.sort((a, b) => a.offset - b.offset);
    const keyed = frames.map((f, i) => ({ f, key: i + rnd() * localReorder }));
    keyed.sort((a, b) => a.key - b.key);
    return keyed.map((k) => k.f);
  }
  for (let i = frames.length - 1; i > 0; i--) {
    const j = (rnd() * (i + 1)) | 0;
    [frames[i], frames[j]] = [frames[j], frames[i]];
  }
  return frames;
}

function drain(recv: RecvStream, out: Uint8Array[]): void {
  for (let c = recv.read(); c !== null; c = recv.read()) out.push(c.slice());
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Feeds the frames (small ones from a reused scratch buffer, as a packet buffer could be), reading now and then. */
function reassemble(original: Uint8Array, frames: Frame[], rnd: () => number): { bytes: Uint8Array; counted: number; recv: RecvStream } {
  const recv = new RecvStream(MiB);
  const scratch = new Uint8Array(256);
  const out: Uint8Array[] = [];
  let counted = 0;
  for (const f of frames) {
    const end = f.offset + f.length;
    let data: Uint8Array;
    if (f.length < scratch.length) {
      scratch.set(original.subarray(f.offset, end));
      data = scratch.subarray(0, f.length);
    } else {
      data = original.subarray(f.offset, end);
    }
    const result = recv.onData(f.offset, data, end === original.length);
    assert.equal(typeof result, 'number', `frame ${f.offset}+${f.length}: ${String(result)}`);
    counted += result as number;
    scratch.fill(0xee); // a reused buffer must not change what was stored
    if (rnd() < 0.05) drain(recv, out);
  }
  drain(recv, out);
  return { bytes: concat(out), counted, recv };
}

test('reassembly is byte-exact under random order, overlaps and duplicates', () => {
  const cases = [
    { seed: 1, total: 20_000, maxLen: 8, localReorder: 0 }, // tiny frames, fully shuffled
    { seed: 2, total: 20_000, maxLen: 300, localReorder: 0 }, // copied and viewed pieces mixed
    { seed: 3, total: 600_000, maxLen: 1200, localReorder: 0 }, // packet-sized frames, fully shuffled
    { seed: 4, total: 300_000, maxLen: 16, localReorder: 64 }, // many tiny frames, network-like reordering
    { seed: 5, total: 1_000_000, maxLen: 1100, localReorder: 400 },
  ];
  for (const c of cases) {
    const rnd = prng(c.seed);
    const original = randomBytes(c.total, rnd);
    const { bytes, counted, recv } = reassemble(original, scrambledFrames(c.total, c.maxLen, rnd, c.localReorder), rnd);
    assert.equal(counted, c.total, `seed ${c.seed}: every byte counted once against flow control`);
    assert.equal(bytes.length, c.total, `seed ${c.seed}`);
    assert.ok(Buffer.from(bytes).equals(Buffer.from(original)), `seed ${c.seed}: bytes differ`);
    assert.ok(recv.complete);
  }
});

test('overlapping frames with different bytes: the first stored copy wins, in-order data wins over stored', () => {
  const fill = (n: number, byte: number) => new Uint8Array(n).fill(byte);
  const recv = new RecvStream(MiB);
  assert.equal(recv.onData(10, fill(10, 0x41), false), 20); // A at [10, 20)
  assert.equal(recv.onData(5, fill(20, 0x42), false), 5); // B only fills [5, 10) and [20, 25)
  assert.equal(recv.onData(30, fill(5, 0x43), false), 10); // C at [30, 35)
  assert.equal(recv.onData(0, fill(32, 0x44), false), 0); // D in order: all 32 bytes are delivered
  const out: Uint8Array[] = [];
  drain(recv, out);
  const expected = [...fill(32, 0x44), ...fill(3, 0x43)];
  assert.deepEqual([...concat(out)], expected);
  assert.equal(recv.read(), null);
});

test('1-byte frames with 1-byte gaps are refused at the run limit, with the distinct result', () => {
  const recv = new RecvStream(MiB);
  const one = new Uint8Array([7]);
  for (let i = 1; i <= MAX_PENDING_RUNS; i++) assert.equal(recv.onData(2 * i, one, false), i === 1 ? 3 : 2);
  assert.equal(recv.onData(2 * MAX_PENDING_RUNS + 2, one, false), TOO_MANY_GAPS);
  assert.equal(recv.hasData, false);
});

test('at the limit, frames that continue a run or fill the prefix are still accepted', () => {
  const recv = new RecvStream(MiB);
  const one = new Uint8Array([1]);
  for (let i = 1; i <= MAX_PENDING_RUNS; i++) recv.onData(2 * i, one, false);
  assert.equal(recv.onData(2 * MAX_PENDING_RUNS + 1, one, false), 1); // extends the last run
  assert.equal(recv.onData(5, one, false), 0); // fills a gap after a run: no new run
  assert.equal(recv.onData(4 * MAX_PENDING_RUNS, one, false), TOO_MANY_GAPS);
  const fresh = new RecvStream(MiB);
  for (let i = 1; i <= MAX_PENDING_RUNS; i++) fresh.onData(2 * i, one, false);
  assert.equal(fresh.onData(0, new Uint8Array(2), false), 0); // in order: drains the first run
  assert.equal(typeof fresh.onData(4 * MAX_PENDING_RUNS, one, false), 'number'); // room again
  const out: Uint8Array[] = [];
  drain(fresh, out);
  assert.equal(concat(out).length, 3);
});

test('honest patterns stay far below the limit: tiny frames after a hole, every other 1 KB frame lost', () => {
  const rnd = prng(9);
  const total = 200_000;
  const original = randomBytes(total, rnd);
  const recv = new RecvStream(MiB);
  for (let at = 1000; at < total; at++) assert.equal(typeof recv.onData(at, original.subarray(at, at + 1), false), 'number');
  recv.onData(0, original.subarray(0, 1000), false);
  const out: Uint8Array[] = [];
  drain(recv, out);
  assert.ok(Buffer.from(concat(out)).equals(Buffer.from(original)));

  const big = randomBytes(MiB, rnd);
  const lossy = new RecvStream(MiB);
  const frames: Frame[] = [];
  for (let at = 0; at < MiB; at += 1024) frames.push({ offset: at, length: 1024 });
  for (let i = 1; i < frames.length; i += 2)
    assert.equal(typeof lossy.onData(frames[i].offset, big.subarray(frames[i].offset, frames[i].offset + 1024), false), 'number');
  const resent = frames.filter((_, i) => i % 2 === 0).sort(() => rnd() - 0.5);
  for (const f of resent) assert.equal(typeof lossy.onData(f.offset, big.subarray(f.offset, f.offset + 1024), false), 'number');
  const got: Uint8Array[] = [];
  drain(lossy, got);
  assert.ok(Buffer.from(concat(got)).equals(Buffer.from(big)));
});

test('a peer scattering 1-byte frames is closed with PROTOCOL_VIOLATION before its packets are acknowledged', () => {
  let now = 0;
  const { client: hostile, server: victim } = sansIoPair(now);
  const id = hostile.streams.open();
  // The hostile peer: every packet is full of 1-byte STREAM frames with 1-byte holes between them.
  let next = 1;
  const frameWriter = hostile.streams as unknown as { hasWork(): boolean; writeFrames(buf: Uint8Array, at: number, end: number): number };
  frameWriter.hasWork = () => true;
  frameWriter.writeFrames = (buf, at, end) => {
    while (end - at > 16) {
      at = writeStreamHeader(buf, at, id, 2 * next++, 1, false);
      buf[at++] = 0x61;
    }
    return at;
  };
  for (let i = 0; i < 200 && victim.state === 'open'; i++) {
    now += 1;
    const datagram = hostile.pollTransmit(now);
    if (datagram !== null) victim.handleDatagram(now, datagram);
  }
  assert.equal(victim.state, 'closing');
  assert.ok(next > MAX_PENDING_RUNS, 'closed only once the limit was reached');
  const events = [];
  for (let e = victim.pollEvent(); e !== undefined; e = victim.pollEvent()) events.push(e);
  assert.deepEqual(events.at(-1), { type: 'closed', code: CloseCode.PROTOCOL_VIOLATION, reason: TOO_MANY_GAPS, remote: false });
  const close = victim.pollTransmit(now);
  assert.ok(close !== null);
  assert.equal(victim.pollTransmit(now), null, 'the CLOSE is the only thing sent: no ACK for the refused data');
  hostile.handleDatagram(now, close);
  const seen = [];
  for (let e = hostile.pollEvent(); e !== undefined; e = hostile.pollEvent()) seen.push(e);
  assert.deepEqual(seen.at(-1), { type: 'closed', code: CloseCode.PROTOCOL_VIOLATION, reason: TOO_MANY_GAPS, remote: true });
});

test('the runs of all streams of a connection share one budget: gaps spread over many streams are refused too, and draining returns them', () => {
  const budget = new RunBudget(100);
  const streams = Array.from({ length: 10 }, () => new RecvStream(1 << 20, budget));
  // 10 runs in each of 10 streams: the shared budget of 100 is used up, although each stream is far below its own limit.
  for (const stream of streams) for (let k = 0; k < 10; k++) assert.equal(typeof stream.onData(2 + 2 * k, new Uint8Array(1), false), 'number');
  assert.equal(budget.used, 100);
  assert.equal(streams[0].onData(500, new Uint8Array(1), false), TOO_MANY_GAPS, 'a new run anywhere is refused');
  // Filling one stream's holes drains its runs into the readable prefix and frees them for the others.
  const first = streams[0];
  first.onData(0, new Uint8Array(2), false);
  for (let k = 1; k < 10; k++) first.onData(2 * k + 1, new Uint8Array(1), false); // the holes at 3, 5, .., 19
  assert.equal(budget.used, 90);
  assert.equal(typeof streams[1].onData(800, new Uint8Array(1), false), 'number');
  // Discarding a stream (reset, abort) gives its runs back as well.
  streams[2].discard();
  assert.equal(budget.used, 81);
});
