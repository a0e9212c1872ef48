/**
 * The server end of `bench/tunnel.ts` in a child process, so each end of a connection
 * has its own JS thread (and core), as real peers do. Also the shared server behaviour.
 *
 * Protocol over the IPC channel (JSON messages):
 *   parent -> child  { mode: 'tunnel' }                     child -> { ready, publicKey, port }
 *   parent -> child  { init: hex, from: {host, port} }       child -> { response: hex }
 *   parent -> child  { mode: 'hyperdht', bootstrap }         child -> { ready, publicKey }
 *   parent -> child  { cpu: true }                           child -> { cpu: µs used so far }
 *   parent -> child  { exit: true }                          child closes everything and exits
 * Everything binds 127.0.0.1 only.
 */

import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { bytesToHex, hexToBytes } from '../src/util/bytes.js';

/** Server behaviour: first byte 'S' = sink (reply 'k' at end), 'E' = echo. */
export function serve(stream: Duplex): void {
  let mode = 0;
  stream.on('data', (chunk: Buffer) => {
    if (mode === 0) {
      mode = chunk[0]!;
      chunk = chunk.subarray(1);
    }
    if (mode === 0x45 && chunk.length > 0) stream.write(chunk);
  });
  stream.on('end', () => stream.end(mode === 0x53 ? 'k' : undefined));
  stream.on('error', () => {});
}

/** A running child peer and a request/answer helper over its IPC channel. */
export interface ChildPeer {
  /** Sends `message` and resolves with the child's next message. */
  ask(message: object): Promise<Record<string, any>>;
  /** CPU time (user + system, µs) the child has used so far. */
  cpu(): Promise<number>;
  /** Asks the child to close and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts this file as a child process (with tsx, as the parent runs). */
export function startChildPeer(): Promise<ChildPeer> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--child'], {
    // MCC_BENCH_CHILD_ARGV adds node flags for the child only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p"
    // (node refuses --cpu-prof in NODE_OPTIONS).
    execArgv: ['--import', 'tsx', ...(process.env.MCC_BENCH_CHILD_ARGV?.split(' ').filter(Boolean) ?? [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let queue = Promise.resolve();
  const ask = (message: object): Promise<Record<string, any>> => {
    const answer = queue.then(async () => {
      const reply = once(child, 'message');
      child.send(message);
      return (await reply)[0] as Record<string, any>;
    });
    queue = answer.then(
      () => undefined,
      () => undefined,
    );
    return answer;
  };
  return Promise.resolve({
    ask,
    cpu: async () => (await ask({ cpu: true })).cpu as number,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.send({ exit: true });
      await exited;
    },
  });
}

async function runChild(): Promise<void> {
  const { generateIdentity } = await import('../src/crypto/index.js');
  const { benchSuite } = await import('./tunnel-suite.js');
  const { UdpTransport } = await import('../src/transport/udp.js');
  const { TunnelDriver } = await import('../src/tunnel/driver.js');
  const { systemClock } = await import('../src/util/clock.js');
  const closers: (() => Promise<void>)[] = [];
  let driver: InstanceType<typeof TunnelDriver> | undefined;
  process.on('message', (message: Record<string, any>) => void onMessage(message));
  async function onMessage(message: Record<string, any>): Promise<void> {
    if (message.cpu) {
      const used = process.cpuUsage();
      process.send!({ cpu: used.user + used.system });
    } else if (message.mode === 'tunnel') {
      const transport = new UdpTransport({ host: '127.0.0.1' });
      const address = await transport.bind();
      const identity = generateIdentity();
      const suite = await benchSuite(message.suite ?? 'node');
      driver = new TunnelDriver({ transport, clock: systemClock, suite, identity, listen: true });
      driver.on('connection', (c) => c.on('stream', serve));
      const d = driver;
      closers.push(async () => {
        await d.close();
        await transport.close();
      });
      process.send!({ ready: true, publicKey: bytesToHex(identity.publicKey), port: address.port, suite: suite.name });
    } else if (message.init !== undefined) {
      const accepted = driver!.accept(hexToBytes(message.init), message.from);
      process.send!({ response: accepted === null ? null : bytesToHex(accepted.response) });
    } else if (message.mode === 'hyperdht') {
      const require = createRequire(import.meta.url);
      const DHT = require('hyperdht');
      const node = new DHT({ ephemeral: true, bootstrap: message.bootstrap, host: '127.0.0.1' });
      const keyPair = DHT.keyPair();
      const server = node.createServer((socket: Duplex) => serve(socket));
      await server.listen(keyPair);
      closers.push(async () => {
        await server.close();
        await node.destroy();
      });
      process.send!({ ready: true, publicKey: bytesToHex(keyPair.publicKey) });
    } else if (message.exit) {
      for (const close of closers) await close();
      process.disconnect();
    }
  }
}

if (process.argv.includes('--child') && process.send !== undefined) await runChild();
