/**
 * Crypto throughput, node:crypto suite against the pure-JS noble suite, side by side.
 * Run: node --import tsx bench/crypto.ts
 * Each figure is the median ops/s over several timed rounds, after a warm-up.
 */

import { performance } from 'node:perf_hooks';
import { nobleCryptoSuite, nodeCryptoSuite, type CryptoSuite } from '../src/crypto/index.js';

const PAYLOAD_BYTES = 1200;
const ROUNDS = 7;
const ROUND_MS = 180;

interface Case {
  name: string;
  /** Returns a function doing one operation with fixed inputs prepared up front. */
  prepare(suite: CryptoSuite): () => unknown;
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
        const opened = suite.open(key, nonce, suite.seal(key, nonce, plaintext, aad), aad);
        if (opened === null) throw new Error('open failed');
      };
    },
  };
}

const cases: Case[] = [
  aeadCase(PAYLOAD_BYTES),
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
      // Defeats the node suite's KeyObject cache: every call sees a new peer key.
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
      const publicKey = suite.ed25519PublicKey(suite.randomBytes(32));
      return () => suite.edPublicToX25519(publicKey);
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

/** ops/s of one timed round of `op`, run in batches until the round lasts about ROUND_MS. */
function timedRound(op: () => unknown): number {
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ROUND_MS) {
    for (let i = 0; i < 16; i++) op();
    ops += 16;
    elapsed = performance.now() - start;
  }
  return (ops * 1000) / elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Median ops/s of each op. Rounds alternate between the ops so that machine-load drift
 * (other processes on a shared box) hits both suites alike instead of biasing the ratio.
 */
function measurePair(a: () => unknown, b: () => unknown): [number, number] {
  for (const op of [a, b]) {
    const warmUpEnd = performance.now() + 100;
    while (performance.now() < warmUpEnd) op();
  }
  const ratesA: number[] = [];
  const ratesB: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ratesA.push(timedRound(a));
    ratesB.push(timedRound(b));
  }
  return [median(ratesA), median(ratesB)];
}

const format = (n: number): string => Math.round(n).toLocaleString('en-US');

const rows = cases.map((c) => {
  const [node, noble] = measurePair(c.prepare(nodeCryptoSuite), c.prepare(nobleCryptoSuite));
  return { operation: c.name, 'node ops/s': format(node), 'noble ops/s': format(noble), 'node/noble': `${(node / noble).toFixed(1)}x` };
});

console.log(`crypto suites, median of ${ROUNDS} interleaved ${ROUND_MS} ms rounds per suite (Node ${process.version})`);
console.table(rows);
const aead = rows[0];
console.log(`AEAD ${PAYLOAD_BYTES} B: node ${aead['node ops/s']} seal+open/s vs noble ${aead['noble ops/s']}`);
