/**
 * Where a tunnel datagram's CPU goes, from floors measured in the same run as the tunnel:
 *
 * - AEAD: one ChaCha20-Poly1305 seal plus one open of a full packet with the suite under test;
 * - socket: Node's dgram sending and receiving one full-size datagram on loopback (both ends,
 *   no crypto, no protocol);
 * - engine: the sans-IO tunnel engine moving one data packet between two in-memory
 *   connections with a pass-through AEAD (framing, acks, recovery, congestion, streams);
 * - I/O layer: what is left of the tunnel's measured CPU per data datagram (both ends)
 *   once those three are taken out: the driver, TunnelConnection, the Duplex streams,
 *   the transport wrapper, timers, and GC of all of it.
 *
 * `bench/tunnel.ts` prints the table after its bulk runs; `bench/tunnel-core.ts` runs the engine alone.
 */

import dgram from 'node:dgram';
import { once } from 'node:events';
import { generateIdentity, nodeCryptoSuite, type CryptoSuite } from '../src/crypto/index.js';
import { Connection } from '../src/tunnel/connection.js';
import { HandshakeInitiator, handshakeIdentity, readHandshakeInit } from '../src/tunnel/handshake.js';
import { HEADER_LENGTH, MAX_DATAGRAM, MAX_PAYLOAD, TAG_LENGTH } from '../src/tunnel/packet.js';

/** CPU time (user + system, µs) since `since`. */
function cpuSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return used.user + used.system;
}

/** µs of CPU for one seal and one open of a full tunnel packet (the same calls the packet layer makes). */
export function aeadMicros(suite: CryptoSuite, rounds = 20_000): number {
  const key = suite.randomBytes(32);
  const nonce = new Uint8Array(12);
  const header = new Uint8Array(HEADER_LENGTH);
  const buf = new Uint8Array(MAX_DATAGRAM);
  const plain = buf.subarray(HEADER_LENGTH, HEADER_LENGTH + MAX_PAYLOAD);
  const sealed = buf.subarray(HEADER_LENGTH, HEADER_LENGTH + MAX_PAYLOAD + TAG_LENGTH);
  const out = new Uint8Array(MAX_PAYLOAD);
  const run = (n: number): void => {
    for (let i = 0; i < n; i++) {
      nonce[11] = i & 0xff;
      if (suite.sealInto !== undefined) suite.sealInto(key, nonce, plain, header, buf, HEADER_LENGTH);
      else buf.set(suite.seal(key, nonce, plain, header), HEADER_LENGTH);
      const opened = suite.openInto !== undefined ? suite.openInto(key, nonce, sealed, header, out, 0) : suite.open(key, nonce, sealed, header) !== null;
      if (!opened) throw new Error('AEAD round trip failed');
    }
  };
  run(rounds / 10);
  const cpu = process.cpuUsage();
  run(rounds);
  return cpuSince(cpu) / rounds;
}

/**
 * µs of CPU per full-size datagram for Node's dgram on loopback, sender and receiver in this
 * process, windows of 32 datagrams (what one flush of the tunnel sends) so none is dropped.
 */
export async function socketMicros(datagrams = 40_000): Promise<number> {
  const receiver = dgram.createSocket('udp4');
  const sender = dgram.createSocket('udp4');
  receiver.bind(0, '127.0.0.1');
  sender.bind(0, '127.0.0.1');
  await Promise.all([once(receiver, 'listening'), once(sender, 'listening')]);
  receiver.setRecvBufferSize(4 * 1024 * 1024);
  const { port } = receiver.address();
  const payload = Buffer.alloc(MAX_DATAGRAM, 7);
  const WINDOW = 32;
  const afterSend = (): void => {};
  let received = 0;
  let wanted = 0;
  let wake: (() => void) | null = null;
  receiver.on('message', () => {
    received++;
    if (received >= wanted && wake !== null) wake();
  });
  const run = async (n: number): Promise<void> => {
    const target = received + n;
    while (received < target) {
      wanted = Math.min(target, received + WINDOW);
      const batch = wanted - received;
      const arrived = new Promise<void>((resolve) => (wake = resolve));
      // One callback per datagram, as the transport passes one (it counts kernel errors).
      for (let i = 0; i < batch; i++) sender.send(payload, port, '127.0.0.1', afterSend);
      // Loopback does not lose datagrams below the receive buffer; bound the wait anyway.
      await Promise.race([arrived, new Promise((resolve) => setTimeout(resolve, 200))]);
      wake = null;
      if (received < wanted) received = wanted; // count a lost window as done: a floor, not a protocol
    }
  };
  await run(datagrams / 10);
  const cpu = process.cpuUsage();
  await run(datagrams);
  const micros = cpuSince(cpu) / datagrams;
  sender.close();
  receiver.close();
  return micros;
}

/** Pass-through AEAD: the same copies the in-place paths imply, no cipher, no authentication. */
export function nullAeadSuite(base: CryptoSuite = nodeCryptoSuite): CryptoSuite {
  return {
    ...base,
    name: 'null-aead',
    seal: (_key, _nonce, plaintext) => {
      const out = new Uint8Array(plaintext.length + TAG_LENGTH);
      out.set(plaintext);
      return out;
    },
    open: (_key, _nonce, sealed) => sealed.slice(0, sealed.length - TAG_LENGTH),
    sealInto: (_key, _nonce, plaintext, _aad, out, outOffset) => {
      if (plaintext.buffer !== out.buffer || plaintext.byteOffset !== out.byteOffset + outOffset) out.set(plaintext, outOffset);
      out.fill(0, outOffset + plaintext.length, outOffset + plaintext.length + TAG_LENGTH);
    },
    openInto: (_key, _nonce, sealed, _aad, out, outOffset) => {
      const body = sealed.subarray(0, sealed.length - TAG_LENGTH);
      if (body.buffer !== out.buffer || body.byteOffset !== out.byteOffset + outOffset) out.set(body, outOffset);
      return true;
    },
  };
}

/** Result of {@link engineRun}. */
export interface EngineRun {
  /** Wall time, ms. */
  ms: number;
  /** CPU time, µs. */
  cpuMicros: number;
  dataPackets: number;
  ackPackets: number;
}

/**
 * Two sans-IO connections moving `total` bytes on one stream in memory (no sockets, no
 * timers), sealing with `packetSuite` (the handshake always uses the node suite).
 */
export function engineRun(packetSuite: CryptoSuite, total: number): EngineRun {
  const suite = nodeCryptoSuite;
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
  while (received < total) {
    while (written < total) {
      const n = client.streams.write(id, chunk.subarray(0, Math.min(chunk.length, total - written)));
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
  return { ms: performance.now() - start, cpuMicros: cpuSince(cpu), dataPackets, ackPackets };
}

/** µs of CPU per data packet for the engine alone (pass-through AEAD), after a warm-up run. */
export function engineMicros(total = 32 * 1024 * 1024): number {
  const suite = nullAeadSuite();
  engineRun(suite, total / 4);
  const run = engineRun(suite, total);
  return run.cpuMicros / run.dataPackets;
}

/** One row of the breakdown: a transport's measured CPU per data datagram and its floors. */
export interface Breakdown {
  /** Measured: the tunnel's CPU (both ends) per data datagram. */
  totalMicros: number;
  aead: number;
  socket: number;
  engine: number;
}

/** Table cells for a {@link Breakdown}: total, AEAD, socket, engine, I/O layer (the rest). */
export function breakdownCells(b: Breakdown): string[] {
  const rest = b.totalMicros - b.aead - b.socket - b.engine;
  return [b.totalMicros.toFixed(1), b.aead.toFixed(1), b.socket.toFixed(1), b.engine.toFixed(1), rest.toFixed(1)];
}
