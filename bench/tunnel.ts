/**
 * Tunnel throughput and latency on loopback, against raw TCP in the same run.
 *
 *   node --import tsx bench/tunnel.ts [--mb 32] [--only tunnel|hyperdht|TCP|processes] [--verbose]
 *
 * Three transports, each with both ends in this process, so figures are for one JS
 * thread doing both sides' work, then the two encrypted ones again with the server
 * end in a child process (bench/tunnel-peer.ts), one thread per end as real peers
 * run: raw TCP, a hyperdht encrypted stream (two nodes of
 * a local testnet on 127.0.0.1; 8 parallel streams are 8 connections, as hyperdht
 * has no multiplexing), and the mcc tunnel (8 streams over one connection). Prints
 * bulk throughput of one stream and of 8 parallel streams, the median 1-byte echo
 * round trip, CPU time per GB moved (process.cpuUsage of both ends, all threads), and
 * the tunnel/hyperdht and tunnel/TCP ratios. `--verbose` prints the tunnel's
 * connection counters after each phase.
 */

import { once } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { generateIdentity, nodeCryptoSuite } from '../src/crypto/index.js';
import { UdpTransport } from '../src/transport/udp.js';
import { TunnelDriver } from '../src/tunnel/driver.js';
import type { TunnelConnection } from '../src/tunnel/tunnel-connection.js';
import { systemClock } from '../src/util/clock.js';
import { hexToBytes } from '../src/util/bytes.js';
import { hyperdhtEndpoint, hyperdhtRemoteEndpoint } from './tunnel-hyperdht.js';
import { serve, startChildPeer } from './tunnel-peer.js';
import { printTable } from './util.js';

const MB = 1024 * 1024;
const argMb = process.argv.indexOf('--mb');
const TOTAL = (argMb > 0 ? Number(process.argv[argMb + 1]) : 32) * MB;
const ECHO_ROUNDS = 2000;
const CHUNK = Buffer.alloc(64 * 1024, 0xab);

interface Endpoint {
  /** Opens a client stream; the server side counts/echoes according to the first byte. */
  open(): Promise<Duplex>;
  close(): Promise<void>;
  /** CPU µs used so far by the server end, when it runs in a child process. */
  remoteCpu?(): Promise<number>;
}

async function tunnelEndpoint(): Promise<Endpoint & { connection: TunnelConnection }> {
  const clientTransport = new UdpTransport({ host: '127.0.0.1' });
  const serverTransport = new UdpTransport({ host: '127.0.0.1' });
  await clientTransport.bind();
  const serverAddress = await serverTransport.bind();
  const serverIdentity = generateIdentity();
  const client = new TunnelDriver({ transport: clientTransport, clock: systemClock, suite: nodeCryptoSuite, identity: generateIdentity(), listen: true });
  const server = new TunnelDriver({ transport: serverTransport, clock: systemClock, suite: nodeCryptoSuite, identity: serverIdentity, listen: true });
  server.on('connection', (c) => c.on('stream', serve));
  const pending = client.initiate(serverIdentity.publicKey, serverAddress);
  const accepted = server.accept(pending.message, clientTransport.localAddress())!;
  const { connection } = pending.complete(accepted.response)!;
  return {
    connection,
    open: async () => connection.openStream(),
    close: async () => {
      await client.close();
      await server.close();
      await clientTransport.close();
      await serverTransport.close();
    },
  };
}

/** The tunnel with its server end in a child process (one JS thread per end). */
async function tunnelRemoteEndpoint(): Promise<Endpoint & { connection: TunnelConnection }> {
  const peer = await startChildPeer();
  const { publicKey, port } = await peer.ask({ mode: 'tunnel' });
  const transport = new UdpTransport({ host: '127.0.0.1' });
  await transport.bind();
  const client = new TunnelDriver({ transport, clock: systemClock, suite: nodeCryptoSuite, identity: generateIdentity(), listen: true });
  const pending = client.initiate(hexToBytes(publicKey as string), { host: '127.0.0.1', port: port as number });
  const { response } = await peer.ask({ init: Buffer.from(pending.message).toString('hex'), from: transport.localAddress() });
  const { connection } = pending.complete(hexToBytes(response as string))!;
  return {
    connection,
    open: async () => connection.openStream(),
    remoteCpu: () => peer.cpu(),
    close: async () => {
      await client.close();
      await peer.stop();
      await transport.close();
    },
  };
}

async function tcpEndpoint(): Promise<Endpoint> {
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

/** Sends `bytes` one way through `stream` and waits for the sink's acknowledgement. */
async function sink(stream: Duplex, bytes: number): Promise<void> {
  const done = new Promise<void>((resolve, reject) => {
    stream.on('data', () => {});
    stream.once('end', resolve);
    stream.once('error', reject);
  });
  stream.write('S');
  for (let sent = 0; sent < bytes; sent += CHUNK.length) {
    if (!stream.write(CHUNK)) await once(stream, 'drain');
  }
  stream.end();
  await done;
}

async function bulk(endpoint: Endpoint, streams: number): Promise<{ mbps: number; cpuMsPerGb: number }> {
  const opened = await Promise.all(Array.from({ length: streams }, () => endpoint.open()));
  const remoteBefore = (await endpoint.remoteCpu?.()) ?? 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(opened.map((s) => sink(s, TOTAL / streams)));
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const remote = ((await endpoint.remoteCpu?.()) ?? 0) - remoteBefore;
  return { mbps: TOTAL / MB / seconds, cpuMsPerGb: ((used.user + used.system + remote) / 1000) * (1024 / (TOTAL / MB)) };
}

async function echo(endpoint: Endpoint): Promise<number> {
  const stream = await endpoint.open();
  stream.on('error', () => {});
  stream.write('E');
  const samples: number[] = [];
  const one = Buffer.from([1]);
  for (let i = 0; i < ECHO_ROUNDS; i++) {
    const start = performance.now();
    const reply = once(stream, 'data');
    stream.write(one);
    await reply;
    samples.push(performance.now() - start);
  }
  stream.end();
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]! * 1000;
}

/** With --verbose, the tunnel's connection counters after each phase. */
const verbose = process.argv.includes('--verbose');
function report(endpoint: Endpoint, phase: string): void {
  const connection = (endpoint as { connection?: TunnelConnection }).connection;
  if (!verbose || connection === undefined) return;
  const { stats, cc, rtt } = connection.core;
  console.log(phase, JSON.stringify(stats), `cwnd ${(cc.window / 1024).toFixed(0)} KiB srtt ${rtt.smoothed.toFixed(3)} ms min ${rtt.min.toFixed(3)} ms`);
}

async function measure(name: string, make: () => Promise<Endpoint>) {
  const endpoint = await make();
  await bulk(endpoint, 1); // warm-up: JIT, windows
  report(endpoint, 'warm-up');
  const one = await bulk(endpoint, 1);
  report(endpoint, '1 stream');
  const eight = await bulk(endpoint, 8);
  report(endpoint, '8 streams');
  const rtt = await echo(endpoint);
  report(endpoint, 'echo');
  await endpoint.close();
  return { name, one, eight, rtt };
}

type Result = Awaited<ReturnType<typeof measure>>;

const REMOTE_HYPERDHT = 'hyperdht, 2 processes';
const REMOTE_TUNNEL = 'mcc tunnel, 2 processes';
const argOnly = process.argv.indexOf('--only');
const only = argOnly > 0 ? process.argv[argOnly + 1] : undefined;
const makers: Record<string, () => Promise<Endpoint>> = {
  'raw TCP': tcpEndpoint,
  hyperdht: () => hyperdhtEndpoint(serve),
  'mcc tunnel': tunnelEndpoint,
  [REMOTE_HYPERDHT]: async () => hyperdhtRemoteEndpoint(await startChildPeer()),
  [REMOTE_TUNNEL]: tunnelRemoteEndpoint,
};
const results: Record<string, Result> = {};
for (const [name, make] of Object.entries(makers)) {
  if (only === undefined || name.includes(only)) results[name] = await measure(name, make);
}

console.log(`loopback, ${TOTAL / MB} MB per bulk run, ${ECHO_ROUNDS} echo rounds; rows without "2 processes" run both ends on one JS thread; CPU counts both ends`);
printTable(
  ['transport', '1 stream MB/s', '8 streams MB/s', 'echo RTT µs (median)', 'CPU ms/GB (1 stream)', 'CPU ms/GB (8 streams)'],
  Object.values(results).map((r) => [
    r.name,
    r.one.mbps.toFixed(1),
    r.eight.mbps.toFixed(1),
    r.rtt.toFixed(0),
    r.one.cpuMsPerGb.toFixed(0),
    r.eight.cpuMsPerGb.toFixed(0),
  ]),
);
function ratio(tunnel: Result | undefined, other: Result | undefined): void {
  if (tunnel === undefined || other === undefined) return;
  console.log(
    `${tunnel.name} / ${other.name}: 1 stream ${(tunnel.one.mbps / other.one.mbps).toFixed(2)}x, 8 streams ${(tunnel.eight.mbps / other.eight.mbps).toFixed(2)}x, ` +
      `echo RTT ${(tunnel.rtt / other.rtt).toFixed(2)}x, CPU/GB ${(tunnel.one.cpuMsPerGb / other.one.cpuMsPerGb).toFixed(2)}x`,
  );
}
ratio(results['mcc tunnel'], results.hyperdht);
ratio(results['mcc tunnel'], results['raw TCP']);
ratio(results[REMOTE_TUNNEL], results[REMOTE_HYPERDHT]);
ratio(results[REMOTE_TUNNEL], results['raw TCP']);
