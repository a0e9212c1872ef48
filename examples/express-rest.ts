/**
 * The REST adapter inside an existing Express app: the app keeps its own routes and mounts
 * the node's API under /mcc, behind a bearer token. The example then talks to itself over
 * HTTP: its own route, a request without the token, a registration over /mcc/v1/services,
 * the list of services, a lookup. On 127.0.0.1 only.
 *
 *   node --import tsx examples/express-rest.ts            run the requests, then stop
 *   node --import tsx examples/express-rest.ts --keep     keep serving until Ctrl-C
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { MccNode } from 'mcc-mesh';
import { createRestHandler } from 'mcc-mesh/rest';

const keep = process.argv.includes('--keep');
const token = process.env.MCC_TOKEN ?? randomBytes(16).toString('hex'); // at least 8 characters

// A second node stands in for the rest of the mesh; in a real app `bootstrap` names known nodes.
const seed = await MccNode.create({ host: '127.0.0.1' });
await seed.start();
const node = await MccNode.create({ host: '127.0.0.1', bootstrap: [seed.address] });
await node.start();

const app = express();
app.get('/', (_request, response) => {
  // The app's own route, using the node directly.
  response.json({ app: 'express-rest example', node: node.idHex, services: node.registrations().map((r) => r.name) });
});
app.use('/mcc', createRestHandler(node, { token })); // unknown /mcc routes fall through to the app
app.use((_request, response) => {
  response.status(404).json({ app: 'express-rest example', error: 'not found' });
});

const server = app.listen(0, '127.0.0.1');
await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
const port = (server.address() as AddressInfo).port;
const base = `http://127.0.0.1:${port}`;
const auth = { authorization: `Bearer ${token}` };

/** One request against the app, printed as `METHOD path -> status body`. */
async function show(method: string, path: string, init: { headers?: Record<string, string>; body?: unknown } = {}): Promise<void> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const text = await response.text();
  const tag = headers.authorization ? ' (with token)' : '';
  console.log(`${method} ${path}${tag} -> ${response.status}${text ? ` ${text}` : ''}`);
}

console.log(`Express app on ${base}: its own route at /, the mcc-mesh REST API under /mcc (token required)\n`);
await show('GET', '/');
await show('GET', '/mcc/v1/node');
await show('POST', '/mcc/v1/services', { headers: auth, body: { name: 'shop', port, metadata: { app: 'express' } } });
await show('GET', '/mcc/v1/services', { headers: auth });
await show('GET', '/mcc/v1/services/shop/providers', { headers: auth });
await show('GET', '/mcc/no-such-route', { headers: auth });
await show('GET', '/');

async function stop(): Promise<void> {
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeAllConnections();
  await Promise.all([closed, node.stop(), seed.stop()]);
  console.log('\nStopped.');
}

if (!keep) {
  await stop();
} else {
  console.log(`
Still running (--keep). Ctrl-C stops it.
  dashboard  ${base}/mcc/?access_token=${token}
  try        curl -H 'authorization: Bearer ${token}' ${base}/mcc/v1/services
`);
  const onSignal = (): void => void stop().then(() => process.exit(0));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}
