/**
 * Sealed sessions on loopback against raw UDP on the same loopback, in one run:
 * - ping-pong round trips per second (one outstanding, and 32 outstanding), with the
 *   process CPU each round trip cost;
 * - one-way datagram throughput of 1200-byte datagrams (seal, send, receive, open, decode);
 * - where a sealed datagram's CPU goes: socket (the raw UDP ping-pong's CPU per datagram),
 *   AEAD and codec (the same operations timed alone on the same envelopes) and the session
 *   logic (the rest: keys, replay window, tokens, RPC matching, timers), so that the next
 *   regression is found in one run.
 * Both ends run in this one process, for the raw and the sealed figures alike.
 * Env: MCC_BENCH_CRYPTO (suite of both nodes, default `node`: no native code).
 * Run: node --import tsx bench/session.ts
 */
import { createSocket, type Socket } from 'node:dgram';
import { MccNode } from '../src/index.js';
import { loadCryptoSuite, type CryptoSuiteName } from '../src/crypto/index.js';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '../src/wire/codec.js';
import { PeerKeyCache, deriveSessionKey } from '../src/session/keys.js';
import { peerX25519PublicKey } from '../src/session/peer-x25519.js';
import { generateIdentity } from '../src/crypto/identity.js';
import { median, printTable } from './util.js';

const ROUNDS = 5;
const ROUND_MS = 1000;
const SUITE = (process.env.MCC_BENCH_CRYPTO ?? 'node') as CryptoSuiteName;

/** Operations per second and process CPU (µs) per operation of one measurement. */
interface Rate {
  perSecond: number;
  cpuUs: number;
}

async function bindRaw(): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  socket.setRecvBufferSize(4 * 1024 * 1024);
  return socket;
}

/** Runs `round` ROUNDS times; the median rate, and the CPU per operation of that median round. */
async function rounds(round: () => Promise<number>): Promise<Rate> {
  const results: Rate[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const cpu = process.cpuUsage();
    const done = await round();
    const used = process.cpuUsage(cpu);
    results.push({ perSecond: done / (ROUND_MS / 1000), cpuUs: (used.user + used.system) / Math.max(1, done) });
  }
  const middle = median(results.map((r) => r.perSecond));
  return results.find((r) => r.perSecond === middle) ?? results[0];
}

/** Raw UDP echo round trips/s with `window` outstanding. */
async function rawPingPong(window: number): Promise<Rate> {
  const server = await bindRaw();
  const client = await bindRaw();
  server.on('message', (msg, rinfo) => server.send(msg, rinfo.port, rinfo.address));
  const payload = Buffer.alloc(80);
  const rate = await rounds(async () => {
    let done = 0;
    const end = performance.now() + ROUND_MS;
    await new Promise<void>((resolve) => {
      let inflight = 0;
      const fire = (): void => {
        while (inflight < window && performance.now() < end) {
          inflight++;
          client.send(payload, server.address().port, '127.0.0.1');
        }
        if (inflight === 0) resolve();
      };
      client.on('message', () => {
        inflight--;
        done++;
        fire();
      });
      fire();
    });
    client.removeAllListeners('message');
    return done;
  });
  server.close();
  client.close();
  return rate;
}

/** Sealed ping-pong round trips/s through the RPC layer with `window` outstanding. */
async function sealedPingPong(a: MccNode, b: MccNode, window: number): Promise<Rate> {
  const peer = { id: b.id, address: b.address };
  await a.rpc.request(peer, { ping: {} }); // warm keys and tokens
  return rounds(async () => {
    let done = 0;
    const end = performance.now() + ROUND_MS;
    const worker = async (): Promise<void> => {
      while (performance.now() < end) {
        await a.rpc.request(peer, { ping: {} });
        done++;
      }
    };
    await Promise.all(Array.from({ length: window }, worker));
    return done;
  });
}

/** Raw one-way throughput of 1200-byte datagrams, datagrams/s received. */
async function rawThroughput(): Promise<Rate> {
  const receiver = await bindRaw();
  const sender = await bindRaw();
  let received = 0;
  receiver.on('message', () => received++);
  const payload = Buffer.alloc(1200);
  const rate = await rounds(async () => {
    const start = received;
    const end = performance.now() + ROUND_MS;
    while (performance.now() < end) {
      for (let i = 0; i < 64; i++) sender.send(payload, receiver.address().port, '127.0.0.1');
      await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    return received - start;
  });
  receiver.close();
  sender.close();
  return rate;
}

/** Sealed one-way throughput: 1200-byte datagrams opened and decoded by the receiver per second. */
async function sealedThroughput(a: MccNode, b: MccNode): Promise<Rate> {
  const peer = { id: b.id, address: b.address };
  // A one-way response nobody waits for: the receiver opens, authenticates and decodes it, then drops it as unexpected.
  const body = { rid: 0, response: true, pong: {}, padding: new Uint8Array(1200 - 65 - 12) };
  return rounds(async () => {
    const start = b.stats().dropped.unexpected;
    const end = performance.now() + ROUND_MS;
    while (performance.now() < end) {
      for (let i = 0; i < 64; i++) a.session.send(peer, body);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    return b.stats().dropped.unexpected - start;
  });
}

/** CPU µs per call of `run`, median of 5 batches after a warm-up (CPU, not wall time: the machine may be shared). */
function timeUs(run: () => void, batch = 20_000): number {
  for (let i = 0; i < batch; i++) run();
  const samples: number[] = [];
  for (let r = 0; r < 5; r++) {
    const cpu = process.cpuUsage();
    for (let i = 0; i < batch; i++) run();
    const used = process.cpuUsage(cpu);
    samples.push((used.user + used.system) / batch);
  }
  return median(samples);
}

/**
 * AEAD and codec µs per datagram of the ping-pong: the request (a ping with its token, padded
 * to 128 bytes) and the answer (a pong), each sealed once and opened once, encoded once and
 * decoded once; averaged over the two.
 */
async function pieces(): Promise<{ aeadUs: number; codecUs: number }> {
  const suite = await loadCryptoSuite(SUITE);
  const key = suite.randomBytes(32);
  const nonce = new Uint8Array(12);
  const aad = new Uint8Array(49);
  const request: Envelope = { version: 1, rid: 12345678, response: false, token: new Uint8Array(16), ping: {}, padding: new Uint8Array(40) };
  const answer: Envelope = { version: 1, rid: 12345678, response: true, pong: {} };
  let aeadUs = 0;
  let codecUs = 0;
  for (const envelope of [request, answer]) {
    const plain = encodeEnvelope(envelope);
    const sealed = suite.seal(key, nonce, plain, aad);
    aeadUs += timeUs(() => suite.seal(key, nonce, plain, aad)) + timeUs(() => suite.open(key, nonce, sealed, aad));
    codecUs += timeUs(() =>
      encodeEnvelope({ version: 1, rid: envelope.rid, response: envelope.response, token: envelope.token, ping: envelope.ping, pong: envelope.pong }),
    );
    codecUs += timeUs(() => decodeEnvelope(plain));
  }
  return { aeadUs: aeadUs / 2, codecUs: codecUs / 2 };
}

/**
 * CPU of one end of a first contact (what a datagram from a peer never met before costs before
 * it can be opened, and the send key for the answer): the peer ID's conversion to X25519, the
 * X25519 (with the import of the peer key), two HKDFs. Fresh peers each time: nothing cached.
 */
async function firstContact(): Promise<{ totalUs: number; conversionUs: number; x25519Us: number; hkdfUs: number }> {
  const suite = await loadCryptoSuite(SUITE);
  const own = generateIdentity(suite);
  // A fresh set of peers per measurement, so that no KeyObject cache answers from an earlier one.
  const newPeers = (): Uint8Array[] => Array.from({ length: 1500 }, () => generateIdentity(suite).publicKey);
  const boot = suite.randomBytes(8);
  const ownX = suite.edSecretToX25519(own.secretKey);
  const cpuPer = (peers: Uint8Array[], run: (peer: Uint8Array) => void): number => {
    for (const peer of peers.slice(0, 200)) run(peer); // warm-up
    const cpu = process.cpuUsage();
    for (const peer of peers.slice(200)) run(peer);
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / (peers.length - 200);
  };
  // One cache for all peers (as a node has), each peer new to it.
  const cache = new PeerKeyCache(suite, own);
  const totalUs = cpuPer(newPeers(), (peer) => {
    const key = cache.receiveKey(peer, boot);
    cache.rememberReceiveKey(peer, boot, key);
    cache.sendKey(peer, boot);
  });
  const conversionUs = cpuPer(newPeers(), (peer) => peerX25519PublicKey(peer));
  const converted = new Map(newPeers().map((peer) => [peer, peerX25519PublicKey(peer)]));
  const x25519Us = cpuPer([...converted.keys()], (peer) => suite.x25519(ownX, converted.get(peer)!));
  const shared = suite.randomBytes(32);
  const hkdfUs = cpuPer(newPeers(), (peer) => deriveSessionKey(suite, shared, peer, own.publicKey, boot)) * 2;
  return { totalUs, conversionUs, x25519Us, hkdfUs };
}

// One peer at a node's full request rate: the per-source budget (1,000/s) would measure the policy, not the stack.
const a = await MccNode.create({ host: '127.0.0.1', crypto: SUITE, requestBudget: false });
const b = await MccNode.create({ host: '127.0.0.1', crypto: SUITE, requestBudget: false });
await Promise.all([a.start(), b.start()]);

const rows: Array<[string, Rate, Rate]> = [];
rows.push(['ping-pong round trips/s, 1 outstanding', await sealedPingPong(a, b, 1), await rawPingPong(1)]);
rows.push(['ping-pong round trips/s, 32 outstanding', await sealedPingPong(a, b, 32), await rawPingPong(32)]);
rows.push(['1200-byte datagrams/s one way', await sealedThroughput(a, b), await rawThroughput()]);
const suiteName = a.stats().crypto;
await Promise.all([a.stop(), b.stop()]);
const { aeadUs, codecUs } = await pieces();
const first = await firstContact();

console.log(`\nsuite: ${suiteName}`);
printTable(
  ['measure (median of 5 x 1 s)', 'sealed session', 'raw UDP', 'sealed/raw', 'sealed CPU µs/op', 'raw CPU µs/op'],
  rows.map(([name, sealed, raw]) => [
    name,
    sealed.perSecond.toFixed(0),
    raw.perSecond.toFixed(0),
    (sealed.perSecond / raw.perSecond).toFixed(2),
    sealed.cpuUs.toFixed(1),
    raw.cpuUs.toFixed(1),
  ]),
);
const throughput = rows[2];
console.log(
  `sealed payload throughput: ${((throughput[1].perSecond * 1200 * 8) / 1e6).toFixed(0)} Mbit/s (raw ${((throughput[2].perSecond * 1200 * 8) / 1e6).toFixed(0)} Mbit/s)`,
);

// A round trip is two datagrams, each sent once and received once.
const [, sealed32, raw32] = rows[1];
const perDatagram = sealed32.cpuUs / 2;
const socketUs = raw32.cpuUs / 2;
const logicUs = perDatagram - socketUs - aeadUs - codecUs;
console.log('\nwhere a sealed ping-pong datagram’s CPU goes (32 outstanding; socket from the raw run, AEAD and codec timed alone):');
printTable(
  ['part', 'µs per datagram', 'share'],
  [
    ['socket (send + receive)', socketUs, socketUs / perDatagram],
    ['AEAD (seal + open)', aeadUs, aeadUs / perDatagram],
    ['codec (encode + decode)', codecUs, codecUs / perDatagram],
    ['session logic (rest)', logicUs, logicUs / perDatagram],
    ['total', perDatagram, 1],
  ].map(([name, us, share]) => [name as string, (us as number).toFixed(1), `${((share as number) * 100).toFixed(0)}%`]),
);
console.log(
  `\nfirst contact, one end (CPU µs, ${SUITE} suite): ${first.totalUs.toFixed(1)} in all = ID to X25519 ${first.conversionUs.toFixed(1)} + ` +
    `X25519 with the peer key's import ${first.x25519Us.toFixed(1)} + two HKDFs ${first.hkdfUs.toFixed(1)} (+ the rest ${(first.totalUs - first.conversionUs - first.x25519Us - first.hkdfUs).toFixed(1)})`,
);
