/** Shared set-up for tunnel tests: two drivers joined by one handshake carried in-process. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { generateIdentity, nodeCryptoSuite } from '../../src/crypto/index.js';
import type { Transport } from '../../src/transport/types.js';
import type { Clock } from '../../src/util/clock.js';
import type { TunnelConfig } from '../../src/tunnel/config.js';
import { TunnelDriver } from '../../src/tunnel/driver.js';
import { Connection } from '../../src/tunnel/connection.js';
import { HandshakeInitiator, handshakeIdentity, readHandshakeInit } from '../../src/tunnel/handshake.js';
import type { TunnelConnection } from '../../src/tunnel/tunnel-connection.js';
import type { TunnelStream } from '../../src/tunnel/stream.js';

export interface TunnelPair {
  client: TunnelDriver;
  server: TunnelDriver;
  clientConnection: TunnelConnection;
  serverConnection: TunnelConnection;
  close(): Promise<void>;
}

/** Two sans-IO connections (client = initiator) joined by a handshake handed over in memory, created at time `now`. */
export function sansIoPair(now = 0): { client: Connection; server: Connection } {
  const a = generateIdentity();
  const b = generateIdentity();
  const initiator = new HandshakeInitiator(nodeCryptoSuite, handshakeIdentity(nodeCryptoSuite, a), b.publicKey, new Uint8Array(8).fill(1));
  const accepted = readHandshakeInit(nodeCryptoSuite, handshakeIdentity(nodeCryptoSuite, b), initiator.message)!.accept(new Uint8Array(8).fill(2));
  return {
    client: new Connection(nodeCryptoSuite, initiator.finish(accepted.response)!.keys, now),
    server: new Connection(nodeCryptoSuite, accepted.keys, now),
  };
}

/** Binds both transports, runs the handshake by handing the two messages over directly. */
export async function connectPair(clientTransport: Transport, serverTransport: Transport, clock: Clock, config?: Partial<TunnelConfig>): Promise<TunnelPair> {
  await clientTransport.bind();
  const serverAddress = await serverTransport.bind();
  const serverIdentity = generateIdentity();
  const client = new TunnelDriver({ transport: clientTransport, clock, suite: nodeCryptoSuite, identity: generateIdentity(), listen: true, config });
  const server = new TunnelDriver({ transport: serverTransport, clock, suite: nodeCryptoSuite, identity: serverIdentity, listen: true, config });
  const pending = client.initiate(serverIdentity.publicKey, serverAddress, new TextEncoder().encode('svc'));
  const accepted = server.accept(pending.message, clientTransport.localAddress());
  if (accepted === null) throw new Error('handshake refused');
  const done = pending.complete(accepted.response);
  if (done === null) throw new Error('handshake failed');
  return {
    client,
    server,
    clientConnection: done.connection,
    serverConnection: accepted.connection,
    async close() {
      await client.close();
      await server.close();
      await clientTransport.close();
      await serverTransport.close();
    },
  };
}

/** Deterministic pseudo-random bytes (fast: SHA-256 blocks of a counter). */
export function patternBytes(length: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(length);
  let offset = 0;
  let counter = 0;
  while (offset < length) {
    const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
    const n = Math.min(block.length * 64, length - offset);
    for (let i = 0; i < n; i += block.length) block.copy(out, offset + i, 0, Math.min(block.length, n - i));
    offset += n;
  }
  return out;
}

/** Writes `data` in `chunk`-sized pieces honouring backpressure, then ends. */
export async function writeAll(stream: TunnelStream, data: Uint8Array, chunk = 64 * 1024): Promise<void> {
  for (let offset = 0; offset < data.length; offset += chunk) {
    if (!stream.write(data.subarray(offset, Math.min(data.length, offset + chunk)))) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = () => {
          stream.off('error', onError);
          resolve();
        };
        const onError = (e: Error) => {
          stream.off('drain', onDrain);
          reject(e);
        };
        stream.once('drain', onDrain);
        stream.once('error', onError);
      });
    }
  }
  stream.end();
}

/** Collects a stream to its end. */
export function readAll(stream: TunnelStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/**
 * Echoes `megabytes` of patterned data through one stream of `pair` (the server pipes
 * streams back) and checks it came back byte-exact, by length and SHA-256.
 */
export async function assertEchoIntact(pair: TunnelPair, megabytes: number): Promise<void> {
  pair.serverConnection.on('stream', (s: TunnelStream) => s.pipe(s));
  const data = patternBytes(megabytes * 1024 * 1024);
  const stream = pair.clientConnection.openStream();
  const hash = createHash('sha256');
  let length = 0;
  stream.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    length += chunk.length;
  });
  const ended = new Promise((resolve) => stream.once('end', resolve));
  await writeAll(stream, data);
  await ended;
  assert.equal(length, data.length);
  assert.equal(hash.digest('hex'), createHash('sha256').update(data).digest('hex'));
}
