/**
 * The sans-IO tunnel engine alone: two Connections exchanging datagrams in memory
 * (no sockets, no timers), to separate protocol + crypto cost from IO cost.
 *
 *   node --import tsx bench/tunnel-core.ts [--mb 64] [--null-aead]
 *
 * `--null-aead` swaps the packet AEAD for a pass-through (plaintext, zero tag) after the
 * handshake, so the figure is the engine's own JavaScript cost per packet. Benchmark only.
 */

import { generateIdentity, nodeCryptoSuite, type CryptoSuite } from '../src/crypto/index.js';
import { Connection } from '../src/tunnel/connection.js';
import { HandshakeInitiator, handshakeIdentity, readHandshakeInit } from '../src/tunnel/handshake.js';

const argMb = process.argv.indexOf('--mb');
const TOTAL = (argMb > 0 ? Number(process.argv[argMb + 1]) : 64) * 1024 * 1024;

const NULL_AEAD = process.argv.includes('--null-aead');
const TAG = 16;
/** Pass-through AEAD: the same copies the in-place paths imply, no cipher, no authentication. */
const nullAead: CryptoSuite = {
  ...nodeCryptoSuite,
  name: 'null-aead',
  seal: (_key, _nonce, plaintext) => {
    const out = new Uint8Array(plaintext.length + TAG);
    out.set(plaintext);
    return out;
  },
  open: (_key, _nonce, sealed) => sealed.slice(0, sealed.length - TAG),
  sealInto: (_key, _nonce, plaintext, _aad, out, outOffset) => {
    if (plaintext.buffer !== out.buffer || plaintext.byteOffset !== out.byteOffset + outOffset) out.set(plaintext, outOffset);
    out.fill(0, outOffset + plaintext.length, outOffset + plaintext.length + TAG);
  },
  openInto: (_key, _nonce, sealed, _aad, out, outOffset) => {
    const body = sealed.subarray(0, sealed.length - TAG);
    if (body.buffer !== out.buffer || body.byteOffset !== out.byteOffset + outOffset) out.set(body, outOffset);
    return true;
  },
};
const suite = nodeCryptoSuite;
const packetSuite = NULL_AEAD ? nullAead : nodeCryptoSuite;

const a = generateIdentity();
const b = generateIdentity();
const initiator = new HandshakeInitiator(suite, handshakeIdentity(suite, a), b.publicKey, new Uint8Array(8).fill(1));
const accepted = readHandshakeInit(suite, handshakeIdentity(suite, b), initiator.message)!.accept(new Uint8Array(8).fill(2));
const clientKeys = initiator.finish(accepted.response)!.keys;

let now = 0;
const client = new Connection(packetSuite, clientKeys, now);
const server = new Connection(packetSuite, accepted.keys, now);
const id = client.streams.open();
const chunk = new Uint8Array(64 * 1024);
let written = 0;
let received = 0;
let dataPackets = 0;
let ackPackets = 0;
const start = performance.now();
const cpu = process.cpuUsage();
while (received < TOTAL) {
  while (written < TOTAL) {
    const n = client.streams.write(id, chunk.subarray(0, Math.min(chunk.length, TOTAL - written)));
    written += n;
    if (n < chunk.length) break;
  }
  now += 0.01;
  let datagram: Uint8Array | null;
  let moved = 0;
  while ((datagram = client.pollTransmit(now)) !== null) {
    server.handleDatagram(now, datagram);
    dataPackets++;
    moved++;
  }
  while (server.pollEvent()) {}
  for (let c = server.streams.read(id); c !== null; c = server.streams.read(id)) received += c.length;
  while ((datagram = server.pollTransmit(now)) !== null) {
    client.handleDatagram(now, datagram);
    ackPackets++;
    moved++;
  }
  while (client.pollEvent()) {}
  if (moved === 0) {
    now += 1;
    client.handleTimeout(now);
    server.handleTimeout(now);
  }
}
const ms = performance.now() - start;
const used = process.cpuUsage(cpu);
console.log('| engine (no IO) | MB/s | µs per data packet | data packets | ack packets | CPU ms/GB |');
console.log('|---|---|---|---|---|---|');
console.log(
  `| ${packetSuite.name} suite | ${(TOTAL / 1048576 / (ms / 1000)).toFixed(1)} | ${((ms * 1000) / dataPackets).toFixed(1)} | ${dataPackets} | ${ackPackets} | ${(((used.user + used.system) / 1000) * (1073741824 / TOTAL)).toFixed(0)} |`,
);
