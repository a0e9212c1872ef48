/**
 * The endpoints `bench/tunnel.ts` and `bench/tunnel-echo.ts` compare (raw TCP, the mcc
 * tunnel with both ends in this process or its server end in a child process), and the
 * one echo measurement they all share, so every transport is timed through the same
 * Duplex API, the same way.
 */

import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { generateIdentity, type CryptoSuite } from '../src/crypto/index.js';
import { UdpTransport } from '../src/transport/udp.js';
import { TunnelDriver } from '../src/tunnel/driver.js';
import type { TunnelConnection } from '../src/tunnel/tunnel-connection.js';
import { systemClock } from '../src/util/clock.js';
import { hexToBytes } from '../src/util/bytes.js';
import { serve, startChildPeer } from './tunnel-peer.js';
import type { BenchSuiteName } from './tunnel-suite.js';

/** A transport under test: streams to a server that sinks or echoes (see `serve`). */
export interface Endpoint {
  /** Opens a client stream; the server side counts/echoes according to the first byte. */
  open(): Promise<Duplex>;
  close(): Promise<void>;
  /** CPU µs used so far by the server end, when it runs in a child process. */
  remoteCpu?(): Promise<number>;
  /** The tunnel connection, for counters. */
  connection?: TunnelConnection;
}

/** The mcc tunnel, both ends in this process (one JS thread does both sides' work). */
export async function tunnelEndpoint(suite: CryptoSuite): Promise<Endpoint> {
  const clientTransport = new UdpTransport({ host: '127.0.0.1' });
  const serverTransport = new UdpTransport({ host: '127.0.0.1' });
  await clientTransport.bind();
  const serverAddress = await serverTransport.bind();
  const serverIdentity = generateIdentity();
  const client = new TunnelDriver({ transport: clientTransport, clock: systemClock, suite, identity: generateIdentity(), listen: true });
  const server = new TunnelDriver({ transport: serverTransport, clock: systemClock, suite, identity: serverIdentity, listen: true });
  server.on('connection', (c) => c.on('stream', serve));
  const pending = client.initiate(serverIdentity.publicKey, serverAddress);
  const accepted = server.accept(pending.message, clientTransport.localAddress())!;
  const { connection } = pending.complete(accepted.response)!;
  return {
    connection,
    open: () => Promise.resolve(connection.openStream()),
    close: async () => {
      await client.close();
      await server.close();
      await clientTransport.close();
      await serverTransport.close();
    },
  };
}

/** The tunnel with its server end in a child process (one JS thread per end); `suite` names the same suite for both ends. */
export async function tunnelRemoteEndpoint(suite: CryptoSuite, suiteName: BenchSuiteName): Promise<Endpoint> {
  const peer = await startChildPeer();
  const { publicKey, port } = await peer.ask({ mode: 'tunnel', suite: suiteName });
  const transport = new UdpTransport({ host: '127.0.0.1' });
  await transport.bind();
  const client = new TunnelDriver({ transport, clock: systemClock, suite, identity: generateIdentity(), listen: true });
  const pending = client.initiate(hexToBytes(publicKey as string), { host: '127.0.0.1', port: port as number });
  const { response } = await peer.ask({ init: Buffer.from(pending.message).toString('hex'), from: transport.localAddress() });
  const { connection } = pending.complete(hexToBytes(response as string))!;
  return {
    connection,
    open: () => Promise.resolve(connection.openStream()),
    remoteCpu: () => peer.cpu(),
    close: async () => {
      await client.close();
      await peer.stop();
      await transport.close();
    },
  };
}

/** Raw TCP on 127.0.0.1 with Nagle off on both ends. */
export async function tcpEndpoint(): Promise<Endpoint> {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    serve(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const sockets: net.Socket[] = [];
  return {
    open: async () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.setNoDelay(true);
      await once(socket, 'connect');
      sockets.push(socket);
      return socket;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * A bare UDP socket pair behind the same Duplex API: no crypto, no packet protocol, no
 * reliability (loopback loses nothing at one datagram in flight). The echo floor that any
 * datagram transport on Node's dgram starts from; only for the echo (bulk would need loss
 * and flow control).
 */
export async function udpEndpoint(): Promise<Endpoint> {
  const server = dgram.createSocket('udp4');
  server.bind(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  const peers = new Map<number, Duplex>();
  server.on('message', (message, from) => {
    let stream = peers.get(from.port);
    if (!stream) {
      stream = datagramDuplex(server, from.port);
      peers.set(from.port, stream);
      serve(stream);
    }
    stream.push(message);
  });
  const clients: dgram.Socket[] = [];
  return {
    open: async () => {
      const socket = dgram.createSocket('udp4');
      socket.bind(0, '127.0.0.1');
      await once(socket, 'listening');
      clients.push(socket);
      const stream = datagramDuplex(socket, port);
      socket.on('message', (message) => stream.push(message));
      return stream;
    },
    close: () => {
      for (const socket of [...clients, server]) socket.close();
      return Promise.resolve();
    },
  };
}

/** Every write is one datagram to 127.0.0.1:`port`; the owner pushes what arrives. */
function datagramDuplex(socket: dgram.Socket, port: number): Duplex {
  return new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      socket.send(chunk, port, '127.0.0.1');
      callback();
    },
    final(callback) {
      callback();
    },
  });
}

/** An open echo stream (the server echoes every byte after the leading 'E'). */
export async function openEcho(endpoint: Endpoint): Promise<Duplex> {
  const stream = await endpoint.open();
  stream.on('error', () => {});
  stream.write('E');
  return stream;
}

/** How a round trip is driven: `await` as an application would (one promise per round), `callback` with nothing but the transport in the loop. */
export type EchoMode = 'await' | 'callback';

/**
 * `rounds` 1-byte echo round trips on `stream`; pushes each round trip (µs) onto
 * `samples`. `await` mode: write, then await `once(stream, 'data')` (the original
 * bench loop; a promise, a listener and a microtask per round add to every transport
 * alike). `callback` mode: one persistent 'data' listener writing the next byte from
 * inside it, so the figure is the transport's alone.
 */
export async function echoRounds(stream: Duplex, rounds: number, samples: number[], mode: EchoMode = 'await'): Promise<void> {
  const one = Buffer.from([1]);
  if (mode === 'await') {
    for (let i = 0; i < rounds; i++) {
      const start = performance.now();
      const reply = once(stream, 'data');
      stream.write(one);
      await reply;
      samples.push((performance.now() - start) * 1000);
    }
    return;
  }
  await new Promise<void>((resolve) => {
    let left = rounds;
    let start = 0;
    const onData = (): void => {
      samples.push((performance.now() - start) * 1000);
      if (--left === 0) {
        stream.off('data', onData);
        resolve();
        return;
      }
      start = performance.now();
      stream.write(one);
    };
    stream.on('data', onData);
    start = performance.now();
    stream.write(one);
  });
}

/**
 * Interleaved echo: after `warm` rounds on each stream (JIT), `blocks` blocks of `rounds`
 * round trips, taking the streams in turn, so load from other processes hits every
 * transport alike. Returns each stream's samples (µs) and the CPU time (user + system, and
 * system alone, µs) this process spent per round trip on it (both ends, for in-process endpoints).
 */
export async function interleavedEcho(
  streams: Duplex[],
  opts: { warm: number; blocks: number; rounds: number; mode?: EchoMode },
): Promise<{ samples: number[][]; cpuPerRound: number[]; sysPerRound: number[] }> {
  for (const stream of streams) await echoRounds(stream, opts.warm, [], opts.mode);
  const samples = streams.map(() => [] as number[]);
  const cpu = streams.map(() => 0);
  const sys = streams.map(() => 0);
  for (let b = 0; b < opts.blocks; b++) {
    // Rotate the starting stream so no transport always follows the same one.
    for (let k = 0; k < streams.length; k++) {
      const i = (b + k) % streams.length;
      const before = process.cpuUsage();
      await echoRounds(streams[i], opts.rounds, samples[i], opts.mode);
      const used = process.cpuUsage(before);
      cpu[i] += used.user + used.system;
      sys[i] += used.system;
    }
  }
  const perRound = (c: number): number => c / (opts.blocks * opts.rounds);
  return { samples, cpuPerRound: cpu.map(perRound), sysPerRound: sys.map(perRound) };
}
