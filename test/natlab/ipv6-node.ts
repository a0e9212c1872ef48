/**
 * A node process for the IPv6 lab (test/natlab/ipv6.test.ts), public API only. Arguments:
 *
 *   NAME PORT [--host=IP] [--bootstrap=HOST:PORT]... [--expect=SVC,...] [--connect=SVC,...]
 *
 * Starts (bound to --host, else the default dual-stack wildcard), registers the echo service
 * `svc-NAME`, prints {"ready":...}; looks up every --expect service until each has its provider
 * (bounded: 30 s), connects to every --connect service and echoes a line through it, prints
 * {"result":...} and keeps serving until SIGTERM.
 */
import { MccNode } from '../../src/index.js';

const [name, portText, ...rest] = process.argv.slice(2);
const option = (key: string): string[] => rest.filter((arg) => arg.startsWith(`--${key}=`)).map((arg) => arg.slice(key.length + 3));
const host = option('host')[0];
const bootstrap = option('bootstrap');
const expect = option('expect').flatMap((list) => list.split(',').filter(Boolean));
const connectTo = option('connect').flatMap((list) => list.split(',').filter(Boolean));

const print = (value: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(value)}\n`);

const node = await MccNode.create({ port: Number(portText), lan: false, bootstrap, ...(host !== undefined ? { host } : {}) });
process.on('SIGTERM', () => {
  void node.stop().then(() => process.exit(0));
});
await node.start();
await node.register(`svc-${name}`, {
  handler: (stream) => {
    stream.pipe(stream);
  },
});
print({ ready: { id: node.idHex, address: node.address } });

const found: Record<string, string[]> = {};
const deadline = Date.now() + 30_000;
for (const service of expect) {
  for (;;) {
    const started = Date.now();
    const providers = await node.lookup(service, { fresh: true }).catch(() => []);
    print({ lookup: { service, ms: Date.now() - started, providers: providers.length } });
    if (providers.length > 0 || Date.now() > deadline) {
      found[service] = providers.flatMap((provider) => provider.addresses.map((address) => address.host));
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const connected: Record<string, string> = {};
for (const service of connectTo) {
  try {
    const stream = await node.connect(service, { timeoutMs: 10_000 });
    print({ connected: { service, tunnels: node.tunnelConnections().map((tunnel) => tunnel.address) } });
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no echo within 10 s')), 10_000);
      stream.once('end', () => {
        clearTimeout(timer);
        resolve();
      });
      stream.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      stream.end(`hello ${service} from ${name}`);
    });
    const echoed = Buffer.concat(chunks).toString('utf8');
    print({ connect: { service, echoed } });
    connected[service] = echoed === `hello ${service} from ${name}` ? 'ok' : `bad echo: ${echoed}`;
  } catch (error) {
    connected[service] = `error ${(error as { code?: string }).code ?? ''}: ${(error as Error).message}`;
  }
}
const stats = node.stats();
print({
  result: {
    address: node.address,
    found,
    connected,
    peers: node.peers().map((peer) => peer.address.host),
    rpcTimeouts: stats.rpc.timeouts,
    nat: { mapping: stats.nat.mapping, publicAddress: stats.nat.publicAddress },
  },
});
