/**
 * The mcc-mesh demo, all on 127.0.0.1: a bootstrap node; a provider node exposing a small
 * real HTTP server as the service "web"; a client node that looks "web" up over its REST
 * API, forwards a local port to it and fetches a page through the encrypted tunnel.
 * Every step is printed with its duration.
 *
 *   npm run demo              run the steps, then stop everything
 *   npm run demo -- --keep    keep it running: prints the dashboard URL and commands to try; Ctrl-C stops
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MccNode, formatAddress } from 'mcc-mesh';
import { createRestHandler } from 'mcc-mesh/rest';

const keep = process.argv.includes('--keep');
const short = (id: string): string => `${id.slice(0, 12)}…`;
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

let stepNumber = 0;
/** Runs one step and prints `N  label  duration  detail` (more detail lines aligned under the first). */
async function step<T>(label: string, action: () => Promise<T>, describe: (result: T) => string[]): Promise<T> {
  const started = performance.now();
  const result = await action();
  const ms = performance.now() - started;
  const [first = '', ...rest] = describe(result);
  const head = `  ${String(++stepNumber).padStart(2)}  ${label.padEnd(42)}${ms.toFixed(0).padStart(5)} ms   `;
  console.log(`${head}${first}`);
  for (const line of rest) console.log(`${' '.repeat(head.length)}${line}`);
  return result;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return formatAddress({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
}

async function closeServer(server: Server): Promise<void> {
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeAllConnections(); // keep-alive and dashboard connections would hold close() open
  await closed;
}

console.log('mcc-mesh demo: a web server reached through the mesh, everything on 127.0.0.1\n');

const bootstrap = await step(
  'start the bootstrap node',
  async () => {
    const node = await MccNode.create({ host: '127.0.0.1' });
    await node.start();
    return node;
  },
  (node) => [`udp ${formatAddress(node.address)}  id ${short(node.idHex)}`],
);

const [provider, client] = await step(
  'start provider + client, join through it',
  async () => {
    const nodes = await Promise.all([1, 2].map(() => MccNode.create({ host: '127.0.0.1', bootstrap: [bootstrap.address] })));
    await Promise.all(nodes.map((node) => node.start()));
    return nodes as [MccNode, MccNode];
  },
  ([p, c]) => [`provider ${short(p.idHex)}  client ${short(c.idHex)}`],
);

// An ordinary HTTP server on the provider's side: it knows nothing of mcc-mesh.
const web = createServer((request, response) => {
  response.setHeader('content-type', 'text/plain; charset=utf-8');
  response.end(`hello from the provider's web server (${request.method} ${request.url})\n`);
});
const registration = await step(
  'start a web server, register it as "web"',
  async () => {
    const address = await listen(web);
    const port = (web.address() as AddressInfo).port;
    const reg = await provider.register('web', { port, metadata: { kind: 'http', note: 'demo' } });
    return { address, reg };
  },
  ({ address, reg }) => [`http ${address}, record stored on ${plural(reg.stored, 'node')}`],
);

// The client's REST adapter, as `mcc start` serves it: the lookup is a plain HTTP request.
const rest = createServer(createRestHandler(client));
const restUrl = `http://${await listen(rest)}`;
await step(
  'REST lookup on the client',
  async () => {
    const response = await fetch(`${restUrl}/v1/services/web/providers`);
    if (!response.ok) throw new Error(`lookup failed: ${response.status} ${await response.text()}`);
    return (await response.json()) as { providers: Array<{ id: string; addresses: string[]; metadata: unknown }> };
  },
  ({ providers }) => [
    `GET ${restUrl}/v1/services/web/providers → ${plural(providers.length, 'provider')}`,
    ...providers.map((p) => `${p.id === provider.idHex ? 'provider' : 'node'} ${short(p.id)}  ${p.addresses.join(' ')}  ${JSON.stringify(p.metadata)}`),
  ],
);

const forward = await step(
  'forward a local port to "web"',
  () => client.forward('web', { port: 0 }),
  (fwd) => [`${formatAddress(fwd.address)} → web`],
);
const pageUrl = `http://${formatAddress(forward.address)}/hello`;

await step(
  'fetch a page through the tunnel',
  async () => {
    const response = await fetch(pageUrl);
    return { status: response.status, text: (await response.text()).trim() };
  },
  ({ status, text }) => [`GET ${pageUrl} → ${status}`, `"${text}"`],
);

const requests = 20;
await step(
  `${requests} more requests through the tunnel`,
  async () => {
    const times: number[] = [];
    for (let i = 0; i < requests; i++) {
      const started = performance.now();
      const response = await fetch(`${pageUrl}?n=${i}`);
      await response.text();
      if (!response.ok) throw new Error(`request ${i}: ${response.status}`);
      times.push(performance.now() - started);
    }
    return times.sort((x, y) => x - y);
  },
  (times) => [`median ${times[Math.floor(times.length / 2)].toFixed(2)} ms, max ${times.at(-1)!.toFixed(2)} ms`],
);

async function stopAll(): Promise<void> {
  await step(
    'stop everything',
    async () => {
      await forward.close();
      await registration.reg.unregister();
      await Promise.all([closeServer(rest), closeServer(web)]);
      await Promise.all([client.stop(), provider.stop(), bootstrap.stop()]);
    },
    () => ['All nodes stopped.'],
  );
}

if (!keep) {
  await stopAll();
} else {
  console.log(`
  Still running (--keep). Ctrl-C stops everything.

  dashboard  ${restUrl}/
  try        curl ${pageUrl}
             curl ${restUrl}/v1/services/web/providers
             curl ${restUrl}/v1/state
             curl -s ${restUrl}/metrics | head
`);
  let stopping = false;
  const onSignal = (): void => {
    if (stopping) return;
    stopping = true;
    stopAll().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
