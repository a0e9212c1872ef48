/**
 * An unmodified HTTP server and client through `forward()` (issue 16): three MccNodes on
 * 127.0.0.1 (a bootstrap, a provider that registers a real `node:http` server with
 * `{ port }`, a client that forwards a local port to it), driven by autocannon.
 *
 *   node --import tsx bench/http-forward.ts [--seconds 3] [--bulk-mb 16] [--crypto auto|node|sodium|noble]
 *
 * For 1 and 50 keep-alive connections and for ~100-byte and 16 KiB answers, autocannon
 * drives the server directly and then through the forward port: requests/s, p50/p99
 * latency, errors and MB/s, and the tunnel/direct ratios. autocannon runs in a child
 * process (its own event loop and core, as a real client would) while the nodes and
 * the HTTP server share this one; on a 2-core machine that is one core each.
 * Then one large download through the forward gives the tunnel's bulk MB/s, the
 * yardstick of the "50 connections reach at least 80% of bulk" target. The nodes run the
 * `--crypto` suite (default: the product default, `auto`); the header line names it.
 */

import { spawn } from 'node:child_process';
import { createServer, get as httpGet, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { CryptoSuiteName } from '../src/crypto/index.js';
import { MccNode } from '../src/index.js';
import { printTable } from './util.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const SECONDS = arg('--seconds', 3);
const BULK_MB = arg('--bulk-mb', 16);
const MB = 1024 * 1024;
const argCrypto = process.argv.indexOf('--crypto');
const CRYPTO = (argCrypto > 0 ? process.argv[argCrypto + 1] : 'auto') as CryptoSuiteName;

const SMALL = Buffer.alloc(100, 0x61);
const LARGE = Buffer.alloc(16 * 1024, 0x62);
const BULK_CHUNK = Buffer.alloc(64 * 1024, 0x63);

/** /small and /16k answer from memory; /bulk?mb=N streams N MiB with backpressure. */
function startServer(): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/small') return void res.end(SMALL);
    if (req.url === '/16k') return void res.end(LARGE);
    const mb = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('mb') ?? 0);
    res.writeHead(200, { 'content-length': mb * MB });
    let left = mb * MB;
    const pump = (): void => {
      while (left > 0) {
        left -= BULK_CHUNK.length;
        if (!res.write(BULK_CHUNK)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface Run {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  mbps: number;
}

/** One autocannon run in a child process (autocannon's own CLI, JSON out). */
function cannon(url: string, connections: number): Promise<Run> {
  const cli = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, '--json', '--connections', String(connections), '--duration', String(SECONDS), url], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.once('error', reject);
    child.once('close', () => {
      try {
        const r = JSON.parse(out) as {
          requests: { average: number };
          latency: { p50: number; p99: number };
          errors: number;
          timeouts: number;
          non2xx: number;
          throughput: { average: number };
        };
        resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx, mbps: r.throughput.average / MB });
      } catch (error) {
        reject(new Error(`autocannon gave no result: ${(error as Error).message}`));
      }
    });
  });
}

/** One download of `mb` MiB; returns MB/s of body bytes. */
function download(port: number, mb: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let bytes = 0;
    httpGet({ host: '127.0.0.1', port, path: `/bulk?mb=${mb}`, agent: false }, (res) => {
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.once('end', () => (bytes === mb * MB ? resolve(bytes / MB / ((performance.now() - start) / 1000)) : reject(new Error(`short download: ${bytes} B`))));
      res.once('error', reject);
    }).once('error', reject);
  });
}

const server = await startServer();
const serverPort = (server.address() as { port: number }).port;
const bootstrap = await MccNode.create({ host: '127.0.0.1', crypto: CRYPTO });
await bootstrap.start();
const provider = await MccNode.create({ host: '127.0.0.1', bootstrap: [bootstrap.address], crypto: CRYPTO });
const client = await MccNode.create({ host: '127.0.0.1', bootstrap: [bootstrap.address], crypto: CRYPTO });
await Promise.all([provider.start(), client.start()]);
await provider.register('web', { port: serverPort });
const forward = await client.forward('web', { port: 0 });
const forwardPort = forward.address.port;
await download(forwardPort, 1); // tunnel up, lookup cached, JIT warm

const rows: string[][] = [];
const ratios: string[][] = [];
const started = performance.now();
for (const connections of [1, 50]) {
  for (const [label, path] of [
    ['~100 B', '/small'],
    ['16 KiB', '/16k'],
  ] as const) {
    const direct = await cannon(`http://127.0.0.1:${serverPort}${path}`, connections);
    const tunnel = await cannon(`http://127.0.0.1:${forwardPort}${path}`, connections);
    for (const [how, r] of [
      ['direct', direct],
      ['forward', tunnel],
    ] as const) {
      rows.push([
        `${connections} conn, ${label}, ${how}`,
        r.rps.toFixed(0),
        ((connections / r.rps) * 1000).toFixed(2),
        String(r.p50),
        String(r.p99),
        String(r.errors),
        r.mbps.toFixed(1),
      ]);
    }
    ratios.push([
      `${connections} conn, ${label}`,
      (tunnel.rps / direct.rps).toFixed(3),
      (direct.rps / tunnel.rps).toFixed(1),
      (tunnel.mbps / direct.mbps).toFixed(3),
    ]);
  }
}
const bulk = [await download(forwardPort, BULK_MB), await download(forwardPort, BULK_MB)];
const bulkDirect = await download(serverPort, BULK_MB);
const bulkMbps = Math.max(...bulk);

console.log(
  `HTTP through forward(): 3 nodes on 127.0.0.1 (crypto suite ${client.stats().crypto}), autocannon in a child process, ${SECONDS} s per run, keep-alive`,
);
// autocannon's latency histogram counts whole milliseconds (0 = under 1 ms); the mean,
// connections / requests per second, keeps the sub-millisecond part.
printTable(['run', 'req/s', 'mean ms', 'p50 ms', 'p99 ms', 'errors', 'MB/s'], rows);
console.log('');
printTable(['tunnel / direct', 'req/s', 'mean latency (x)', 'MB/s'], ratios);
console.log('');
const fifty = rows.find((row) => row[0] === '50 conn, 16 KiB, forward')!;
console.log(
  `bulk download through the forward (${BULK_MB} MiB, best of 2): ${bulkMbps.toFixed(1)} MB/s (runs ${bulk.map((v) => v.toFixed(1)).join(', ')}); direct ${bulkDirect.toFixed(0)} MB/s`,
);
console.log(`50 connections, 16 KiB through the forward: ${fifty[6]} MB/s = ${((Number(fifty[6]) / bulkMbps) * 100).toFixed(0)}% of bulk`);
console.log(`runs took ${((performance.now() - started) / 1000).toFixed(1)} s`);

await forward.close();
await Promise.all([client.stop(), provider.stop(), bootstrap.stop()]);
server.closeAllConnections();
await new Promise((resolve) => server.close(resolve));
