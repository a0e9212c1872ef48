/**
 * The hyperdht side of `bench/tunnel.ts`: two hyperdht nodes on a local testnet
 * (127.0.0.1 only), one `createServer` and `connect` per stream, each an encrypted
 * Noise + secretstream connection over UDX (native C). hyperdht is a dev dependency
 * of the benchmark only; it is loaded through `createRequire` because it ships no types.
 */

import { once } from 'node:events';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { hexToBytes } from '../src/util/bytes.js';
import type { ChildPeer } from './tunnel-peer.js';

/** What the benchmark needs from an endpoint (same shape as the tunnel and TCP ones). */
export interface BenchEndpoint {
  open(): Promise<Duplex>;
  close(): Promise<void>;
}

interface HyperStream extends Duplex {
  /** streamx streams signal readiness with 'open'. */
  on(event: string, listener: (...args: any[]) => void): this;
}

interface HyperServer {
  listen(keyPair: unknown): Promise<void>;
  close(): Promise<void>;
}

interface HyperNode {
  createServer(onConnection: (socket: HyperStream) => void): HyperServer;
  connect(publicKey: Uint8Array): HyperStream;
  destroy(): Promise<void>;
}

interface HyperTestnet {
  bootstrap: { host: string; port: number }[];
  createNode(): HyperNode;
  destroy(): Promise<void>;
}

const require = createRequire(import.meta.url);

const createTestnet = (): Promise<HyperTestnet> =>
  (require('hyperdht/testnet') as (size: number, opts: { host: string }) => Promise<HyperTestnet>)(3, { host: '127.0.0.1' });

/**
 * A hyperdht endpoint: `serve` handles every server-side stream; each `open()` is a
 * fresh `connect` (hyperdht multiplexes no streams over one connection).
 */
export async function hyperdhtEndpoint(serve: (stream: Duplex) => void): Promise<BenchEndpoint> {
  const DHT = require('hyperdht') as { keyPair(): { publicKey: Uint8Array } };
  const testnet = await createTestnet();
  const serverNode = testnet.createNode();
  const keyPair = DHT.keyPair();
  const server = serverNode.createServer((socket) => serve(socket));
  await server.listen(keyPair);
  return clientEndpoint(testnet, keyPair.publicKey, () => server.close());
}

/**
 * The same with the server node in the child process `peer` (see bench/tunnel-peer.ts);
 * the testnet and the client node stay here.
 */
export async function hyperdhtRemoteEndpoint(peer: ChildPeer): Promise<BenchEndpoint> {
  const testnet = await createTestnet();
  const { publicKey } = await peer.ask({ mode: 'hyperdht', bootstrap: testnet.bootstrap });
  return clientEndpoint(testnet, hexToBytes(publicKey as string), () => peer.stop());
}

/** A client node on `testnet` whose every `open()` connects to `serverKey`; `closeServer` runs on close. */
function clientEndpoint(testnet: HyperTestnet, serverKey: Uint8Array, closeServer: () => Promise<unknown>): BenchEndpoint {
  const clientNode = testnet.createNode();
  const sockets: HyperStream[] = [];
  return {
    open: async () => {
      const socket = clientNode.connect(serverKey);
      sockets.push(socket);
      await once(socket, 'open');
      return socket;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await closeServer();
      await testnet.destroy();
    },
  };
}
