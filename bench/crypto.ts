/**
 * Crypto throughput, node:crypto suite against the pure-JS noble suite, side by side.
 * Run: node --import tsx bench/crypto.ts
 * Each figure is the median ops/s over several timed rounds, after a warm-up.
 */

import { performance } from 'node:perf_hooks';
import { nobleCryptoSuite, nodeCryptoSuite, type CryptoSuite } from '../src/crypto/index.js';

const PAYLOAD_BYTES = 1200;
const ROUNDS = 5;
const ROUND_MS = 300;

interface Case {
  name: string;
  /** Returns a function doing one operation with fixed inputs prepared up front. */
  prepare(suite: CryptoSuite): () => unknown;
}

const cases: Case[] = [
  {
    name: `AEAD seal+open ${PAYLOAD_BYTES} B`,
    prepare(suite) {
      const key = suite.randomBytes(32);
      const nonce = suite.randomBytes(12);
      const aad = suite.randomBytes(16);
      const plaintext = suite.randomBytes(PAYLOAD_BYTES);
      return () => {
        const opened = suite.open(key, nonce, suite.seal(key, nonce, plaintext, aad), aad);
        if (opened === null) throw new Error('open failed');
      };
    },
  },
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
      return () => suite.x25519(secret, peers[i++ % peers.length]!);
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

/** Median ops/s of `op`, timing batches until each round lasts about ROUND_MS. */
function measure(op: () => unknown): number {
  const warmUpEnd = performance.now() + 100;
  while (performance.now() < warmUpEnd) op();
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let ops = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < ROUND_MS) {
      for (let i = 0; i < 16; i++) op();
      ops += 16;
      elapsed = performance.now() - start;
    }
    rates.push((ops * 1000) / elapsed);
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)]!;
}

const format = (n: number): string => Math.round(n).toLocaleString('en-US');

const rows = cases.map((c) => {
  const node = measure(c.prepare(nodeCryptoSuite));
  const noble = measure(c.prepare(nobleCryptoSuite));
  return { operation: c.name, 'node ops/s': format(node), 'noble ops/s': format(noble), 'node/noble': `${(node / noble).toFixed(1)}x` };
});

console.log(`crypto suites, median of ${ROUNDS} x ${ROUND_MS} ms rounds (Node ${process.version})`);
console.table(rows);
const aead = rows[0]!;
console.log(`AEAD ${PAYLOAD_BYTES} B: node ${aead['node ops/s']} seal+open/s vs noble ${aead['noble ops/s']}`);
