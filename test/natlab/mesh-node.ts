/**
 * A mesh node process for the NAT lab, using only the public API (plus `stats()`).
 * Prints JSON lines on stdout. Roles:
 *
 *   seed     PORT [BOOTSTRAP] [--client-mode]
 *            a public node (bootstrap, observer, relay); prints {"ready":...}, then
 *            {"stats":...} every 500 ms until killed
 *   provider PORT BOOTSTRAP... [--service=NAME] [--min-relays=N]
 *            a real node:http server on 127.0.0.1, exposed as service NAME (default "web") with
 *            register({ port }); prints {"provider":...} once its NAT verdict is in and
 *            the service is registered, then {"stats":...} every 500 ms until killed
 *   client   PORT BOOTSTRAP... [--service=NAME] [--min-relays=N]
 *            waits for its NAT verdict, forward(NAME) to a local port, HTTP GET through
 *            it; waits (bounded) for a relayed connection to move to a direct path, then
 *            a second, larger GET, counting datagrams that passed relay circuits meanwhile;
 *            prints {"client":...} and exits
 *
 * `--min-relays=N` (default 2): how many relay reservations an unreachable node waits for
 * before it counts its NAT verdict as in. Behind block-udp only the relay on 10.99.0.1 can
 * be reached, so waiting for a second one would only burn the 20 s bound.
 */
import { createServer, get as httpGet } from 'node:http';
import { Socket, type AddressInfo } from 'node:net';
import { MccNode } from '../../src/index.js';
import type { NatStatus } from '../../src/node/nat.js';
import { isVirtualAddress } from '../../src/nat/relay-packet.js';

const [role, portText, ...rest] = process.argv.slice(2);
const port = Number(portText ?? 0);
const clientMode = rest.includes('--client-mode');
const service = rest.find((arg) => arg.startsWith('--service='))?.slice('--service='.length) ?? 'web';
const minRelays = Number(rest.find((arg) => arg.startsWith('--min-relays='))?.slice('--min-relays='.length) ?? 2);
const bootstrap = rest.filter((arg) => !arg.startsWith('--'));
const BIG = 256 * 1024;

// Diagnostics on stderr (kept in the failure message and in NATLAB_LOG_DIR): every TCP socket
// error with the socket's ports and how many 'error' listeners it has (0: it crashes the process).
const emitSocketEvent = Socket.prototype.emit;
Socket.prototype.emit = function (this: Socket, event: string | symbol, ...args: unknown[]): boolean {
  if (event === 'error') {
    console.error(
      `[${Date.now()}] socket error ${(args[0] as Error)?.message}: ${this.localAddress}:${this.localPort} -> ${this.remoteAddress}:${this.remotePort}, ${this.listenerCount('error')} error listener(s)`,
    );
  }
  return Reflect.apply(emitSocketEvent, this, [event, ...args]) as boolean;
} as typeof Socket.prototype.emit;

/** One line per tunnel connection (stderr): where it sends, window, bytes in flight, RTT/PTO, counters. */
function dumpTunnels(node: MccNode, why: string): void {
  for (const connection of node.tunnels.connections) {
    const core = connection.core;
    console.error(
      `[${Date.now()}] tunnel ${why}: peer ${Buffer.from(connection.peer).toString('hex').slice(0, 8)} at ${connection.address.host}:${connection.address.port} state ${core.state} ` +
        `cwnd ${core.cc.window} inflight ${core.cc.bytesInFlight} srtt ${core.rtt.smoothed.toFixed(1)} pto ${core.rtt.pto(5).toFixed(1)} ${JSON.stringify(core.stats)} circuits ${JSON.stringify(node.stats().nat.circuits)}`,
    );
  }
}

function print(value: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** When (ms after the node started) the verdict phases were first seen: reachability decided, 1st and 2nd relay held. */
const phases: { reachability?: number; relay1?: number; relay2?: number } = {};

/** Waits (bounded) until the NAT verdict is in: reachable, or holding relays (unreachable, or not provably reachable behind NAT). */
async function verdict(node: MccNode, maxMs: number, t0: number): Promise<NatStatus> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    const status = node.stats().nat;
    const at = Date.now() - t0;
    if (status.reachable !== undefined) phases.reachability ??= at;
    if (status.relays.length >= 1) phases.relay1 ??= at;
    if (status.relays.length >= 2) phases.relay2 ??= at;
    if (status.reachable === true || status.relays.length >= minRelays) return status;
    if (Date.now() > deadline) return status;
    await sleep(100);
  }
}

function fetchText(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { agent: false }, (response) => {
      console.error(`[${Date.now()}] GET ${url}: ${response.statusCode} on local port ${request.socket?.localPort}`);
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.setTimeout(20_000, () => request.destroy(new Error('HTTP request timed out')));
    // Which request failed, in the crash message of a client whose GET failed.
    request.on('error', (error) => reject(new Error(`GET ${url}: ${error.message}`, { cause: error })));
  });
}

function keepReporting(node: MccNode): void {
  const timer = setInterval(() => {
    print({ stats: node.stats().nat });
    if (process.env['NATLAB_LOG_DIR']) dumpTunnels(node, 'report');
  }, 500);
  const stop = async (): Promise<void> => {
    clearInterval(timer);
    await node.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

if (role === 'seed') {
  const node = await MccNode.create({ host: '0.0.0.0', port, bootstrap, clientMode });
  await node.start();
  print({ ready: { id: node.idHex, address: node.address } });
  keepReporting(node);
} else if (role === 'provider') {
  const server = createServer((request, response) => {
    const size = request.url === '/big' ? BIG : 0;
    const body = size > 0 ? 'b'.repeat(size) : `hello from the provider (${request.url})`;
    response.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const t0 = Date.now();
  const node = await MccNode.create({ host: '0.0.0.0', port, bootstrap });
  await node.start();
  const status = await verdict(node, 20_000, t0);
  const verdictMs = Date.now() - t0;
  await node.register(service, { port: (server.address() as AddressInfo).port });
  print({ provider: { id: node.idHex, status, ms: { verdict: verdictMs, registered: Date.now() - t0, phases } } });
  keepReporting(node);
  process.on('SIGTERM', () => server.close());
} else if (role === 'client') {
  const t0 = Date.now();
  const node = await MccNode.create({ host: '0.0.0.0', port, bootstrap });
  await node.start();
  const status = await verdict(node, 20_000, t0);
  const verdictMs = Date.now() - t0;
  // The provider may be starting at the same time: wait (bounded) for its record.
  for (let tries = 0; tries < 60 && (await node.lookup(service, { fresh: true })).length === 0; tries++) await sleep(500);
  const started = Date.now();
  const forward = await node.forward(service, { port: 0 });
  const base = `http://127.0.0.1:${forward.address.port}`;
  const first = await fetchText(`${base}/first`);
  const firstMs = Date.now() - started;
  const [provider] = await node.lookup(service);
  const connection = provider ? node.tunnels.connectionTo(provider.nodeId) : undefined;
  // A relayed connection moves to a direct path when the background hole punch succeeds.
  const waitStarted = Date.now();
  const deadline = waitStarted + 12_000;
  while (connection && isVirtualAddress(connection.address) && Date.now() < deadline) {
    const { connects } = node.stats().nat;
    if (connects.punchFailed > 0 && connects.punched === 0) break;
    await sleep(100);
  }
  const upgradeWaitMs = Date.now() - waitStarted;
  await sleep(300); // let datagrams that were in flight on the relay drain
  const before = node.stats().nat.circuits;
  // While the large transfer runs, the tunnel's state once a second (stderr: in the failure message of a stall).
  const watch = setInterval(() => dumpTunnels(node, 'during /big'), 1000);
  const second = await fetchText(`${base}/big`).finally(() => clearInterval(watch));
  const after = node.stats().nat.circuits;
  print({
    client: {
      status,
      first: { status: first.status, body: first.body, ms: firstMs },
      second: { status: second.status, bytes: second.body.length },
      address: connection?.address,
      relayedPath: connection ? isVirtualAddress(connection.address) : undefined,
      relayedDuringSecond: after.relayedIn + after.relayedOut - before.relayedIn - before.relayedOut,
      connects: node.stats().nat.connects,
      ms: { verdict: verdictMs, lookup: started - t0 - verdictMs, upgradeWait: upgradeWaitMs, phases },
    },
  });
  await forward.close();
  await node.stop();
  process.exit(0);
} else {
  console.error('usage: mesh-node.ts seed|provider|client PORT [BOOTSTRAP...] [--client-mode]');
  process.exit(2);
}
