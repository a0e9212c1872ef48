/**
 * Crypto cost per operation, every available suite side by side: `node` (node:crypto),
 * `noble` (pure JS) and `sodium` (libsodium through the optional sodium-native, where it
 * loads). Run: node --import tsx bench/crypto.ts
 * Each figure is CPU time per operation, the median over interleaved rounds after a
 * warm-up: rounds alternate between the suites, so drift (a shared, noisy box) hits every
 * suite alike instead of biasing the ratios.
 */

import { performance } from 'node:perf_hooks';
import { availableCryptoSuites, type CryptoSuite } from '../src/crypto/index.js';
import { loadSodiumNative, type SodiumNative } from '../src/crypto/sodium-suite.js';
import { peerX25519PublicKey } from '../src/session/peer-x25519.js';
import { printTable } from './util.js';

/** A tunnel data datagram's AEAD payload: 1191-byte cap less header and tag, as bench/tunnel measures. */
const DATAGRAM_BYTES = 1158;
const ROUNDS = 7;
const ROUND_MS = 150;

interface Case {
  name: string;
  /** Returns a function doing one operation with inputs prepared up front, or undefined where the suite lacks it. */
  prepare(suite: CryptoSuite): (() => unknown) | undefined;
}

function aeadCase(bytes: number): Case {
  return {
    name: `AEAD seal+open ${bytes} B`,
    prepare(suite) {
      const key = suite.randomBytes(32);
      const nonce = suite.randomBytes(12);
      const aad = suite.randomBytes(16);
      const plaintext = suite.randomBytes(bytes);
      return () => {
        if (suite.open(key, nonce, suite.seal(key, nonce, plaintext, aad), aad) === null) throw new Error('open failed');
      };
    },
  };
}

/** The allocation-free hot path the session and tunnel layers use: seal in place, open in place. */
function aeadIntoCase(bytes: number): Case {
  return {
    name: `AEAD sealInto+openInto ${bytes} B`,
    prepare(suite) {
      const { sealInto, openInto } = suite;
      if (sealInto === undefined || openInto === undefined) return undefined;
      const key = suite.randomBytes(32);
      const nonce = suite.randomBytes(12);
      const aad = suite.randomBytes(16);
      const buffer = new Uint8Array(bytes + 16);
      buffer.set(suite.randomBytes(bytes));
      return () => {
        sealInto.call(suite, key, nonce, buffer.subarray(0, bytes), aad, buffer, 0);
        if (!openInto.call(suite, key, nonce, buffer, aad, buffer, 0)) throw new Error('openInto failed');
      };
    },
  };
}

const cases: Case[] = [
  aeadCase(DATAGRAM_BYTES),
  aeadIntoCase(DATAGRAM_BYTES),
  aeadCase(100),
  {
    name: 'Ed25519 sign (64 B msg)',
    prepare(suite) {
      const secret = suite.randomBytes(32);
      const message = suite.randomBytes(64);
      return () => suite.sign(message, secret);
    },
  },
  {
    name: 'Ed25519 verify (64 B msg)',
    prepare(suite) {
      const secret = suite.randomBytes(32);
      const publicKey = suite.ed25519PublicKey(secret);
      const message = suite.randomBytes(64);
      const signature = suite.sign(message, secret);
      return () => {
        if (!suite.verify(signature, message, publicKey)) throw new Error('verify failed');
      };
    },
  },
  {
    name: 'Ed25519 verify, fresh key each time',
    prepare(suite) {
      // Defeats the node suite's KeyObject cache, as record checks from many authors do.
      const signed = Array.from({ length: 256 }, () => {
        const secret = suite.randomBytes(32);
        const message = suite.randomBytes(64);
        return { message, publicKey: suite.ed25519PublicKey(secret), signature: suite.sign(message, secret) };
      });
      let i = 0;
      return () => {
        const { message, publicKey, signature } = signed[i++ % signed.length];
        if (!suite.verify(signature, message, publicKey)) throw new Error('verify failed');
      };
    },
  },
  {
    name: 'X25519 agreement',
    prepare(suite) {
      const secret = suite.randomBytes(32);
      const peer = suite.x25519PublicKey(suite.randomBytes(32));
      return () => suite.x25519(secret, peer);
    },
  },
  {
    name: 'X25519 agreement, fresh peer key',
    prepare(suite) {
      // Every call sees a new peer key: a first contact's agreement.
      const secret = suite.randomBytes(32);
      const peers = Array.from({ length: 1024 }, () => suite.x25519PublicKey(suite.randomBytes(32)));
      let i = 0;
      return () => suite.x25519(secret, peers[i++ % peers.length]);
    },
  },
  {
    name: 'X25519 ephemeral keygen + agree',
    prepare(suite) {
      // One side of a forward-secret handshake: fresh secret, its public key, one agreement.
      const peer = suite.x25519PublicKey(suite.randomBytes(32));
      return () => {
        const ephemeral = suite.randomBytes(32);
        suite.x25519PublicKey(ephemeral);
        return suite.x25519(ephemeral, peer);
      };
    },
  },
  {
    name: 'Ed25519 public key -> X25519',
    prepare(suite) {
      const keys = Array.from({ length: 256 }, () => suite.ed25519PublicKey(suite.randomBytes(32)));
      let i = 0;
      return () => suite.edPublicToX25519(keys[i++ % keys.length]);
    },
  },
  {
    name: 'Ed25519 seed -> X25519 secret',
    prepare(suite) {
      const secret = suite.randomBytes(32);
      return () => suite.edSecretToX25519(secret);
    },
  },
  {
    name: 'HKDF-SHA-256 (32 B ikm, 64 B out)',
    prepare(suite) {
      const ikm = suite.randomBytes(32);
      const salt = suite.randomBytes(32);
      const info = new TextEncoder().encode('mcc-mesh bench');
      return () => suite.hkdf(ikm, salt, info, 64);
    },
  },
  {
    name: 'SHA-256 (32 B)',
    prepare(suite) {
      const data = suite.randomBytes(32);
      return () => suite.sha256(data);
    },
  },
];

/**
 * Operations per CPU-second of one round of `op`, run in batches until the round has
 * used about ROUND_MS of this process's CPU. CPU time rather than wall time: on a shared
 * machine wall time also counts the time other processes held the core, which here was
 * most of it (load average near 20 on 2 cores).
 */
function timedRound(op: () => unknown): number {
  let ops = 0;
  const start = process.cpuUsage();
  let used = 0;
  while (used < ROUND_MS * 1000) {
    for (let i = 0; i < 16; i++) op();
    ops += 16;
    const { user, system } = process.cpuUsage(start);
    used = user + system;
  }
  return (ops * 1e6) / used;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Median ops/s of each op (undefined stays undefined), rounds interleaved across the ops. */
function measureInterleaved(ops: Array<(() => unknown) | undefined>): Array<number | undefined> {
  const live = ops.filter((op): op is () => unknown => op !== undefined);
  for (const op of live) {
    const warmUpEnd = performance.now() + 80;
    while (performance.now() < warmUpEnd) op();
  }
  const rates = live.map((): number[] => []);
  for (let round = 0; round < ROUNDS; round++) live.forEach((op, i) => rates[i].push(timedRound(op)));
  const medians = rates.map(median);
  let next = 0;
  return ops.map((op) => (op === undefined ? undefined : medians[next++]));
}

const micros = (rate: number | undefined): string => (rate === undefined ? '-' : (1e6 / rate).toFixed(rate > 1e6 ? 3 : 2));

/**
 * libsodium's own Ed25519 -> X25519 public-key map, measured beside the project's noble
 * map (issue 19: keep the project's own where it measures faster).
 */
function libsodiumConversion(sodium: SodiumNative, suite: CryptoSuite): () => unknown {
  const keys = Array.from({ length: 256 }, () => suite.ed25519PublicKey(suite.randomBytes(32)));
  const out = new Uint8Array(32);
  let i = 0;
  return () => sodium.crypto_sign_ed25519_pk_to_curve25519(out, keys[i++ % keys.length]);
}

async function main(): Promise<void> {
  const suites = await availableCryptoSuites();
  console.log(
    `crypto suites ${suites.map((suite) => suite.name).join(', ')}: CPU microseconds per operation, median of ${ROUNDS} interleaved rounds of ${ROUND_MS} ms CPU (Node ${process.version})`,
  );
  // Speed relative to node: node's time per operation over the suite's (2.00x = twice as fast).
  const header = ['operation', ...suites.map((suite) => `${suite.name} us`), ...suites.slice(1).map((suite) => `${suite.name} speed vs node`)];
  const rows: string[][] = [];
  for (const c of cases) {
    const rates = measureInterleaved(suites.map((suite) => c.prepare(suite)));
    const nodeRate = rates[0];
    rows.push([
      c.name,
      ...rates.map(micros),
      ...rates.slice(1).map((rate) => (rate === undefined || nodeRate === undefined ? '-' : `${(rate / nodeRate).toFixed(2)}x`)),
    ]);
  }
  printTable(header, rows);
  const sodium = suites.find((suite) => suite.name === 'sodium');
  if (sodium === undefined) {
    console.log('sodium-native did not load here: the sodium column is missing');
    return;
  }
  const conversion = cases.find((c) => c.name === 'Ed25519 public key -> X25519')!;
  const ids = Array.from({ length: 256 }, () => sodium.ed25519PublicKey(sodium.randomBytes(32)));
  let next = 0;
  // The session's own map (src/session/peer-x25519.ts): u = (1 + y) / (1 - y) without decoding the point.
  const sessionMap = (): unknown => peerX25519PublicKey(ids[next++ % ids.length]);
  const [session, project, libsodium, suiteMap] = measureInterleaved([
    sessionMap,
    conversion.prepare(suites.find((suite) => suite.name === 'noble')!),
    libsodiumConversion(await loadSodiumNative(), sodium),
    conversion.prepare(sodium),
  ]);
  console.log(
    `Ed25519 public key -> X25519, side by side: the session's own map (no point decoding, first contacts) ${micros(session)} us, ` +
      `noble's (node and noble suites) ${micros(project)} us, libsodium's ${micros(libsodium)} us, ` +
      `the sodium suite's (libsodium's; noble's for the inputs libsodium refuses; tunnel handshakes) ${micros(suiteMap)} us`,
  );
}

await main();
