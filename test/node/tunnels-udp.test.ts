import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, Agent } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { MccNode } from '../../src/index.js';
import { streamHeader } from '../../src/node/service-streams.js';

async function trio(t: { after: (fn: () => unknown) => void }): Promise<[MccNode, MccNode, MccNode]> {
  const a = await MccNode.create({ host: '127.0.0.1' });
  await a.start();
  const b = await MccNode.create({ host: '127.0.0.1', bootstrap: [a.address] });
  const c = await MccNode.create({ host: '127.0.0.1', bootstrap: [a.address] });
  await Promise.all([b.start(), c.start()]);
  t.after(() => Promise.all([a.stop(), b.stop(), c.stop()]));
  return [a, b, c];
}

function collect(stream: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

test('connect() to an in-process handler: byte-exact echo, half-close, and errors for missing services', async (t) => {
  const [a, b, c] = await trio(t);
  await b.register('echo', { handler: (stream) => stream.pipe(stream) });
  const payload = randomBytes(3 * 1024 * 1024);
  const stream = await c.connect('echo');
  const echoed = collect(stream);
  stream.end(payload);
  const back = await echoed;
  assert.equal(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(payload).digest('hex'));

  // Connect by node ID and service name.
  const direct = await a.connect(b.idHex, { service: 'echo' });
  const echoedDirect = collect(direct);
  direct.end('ping');
  assert.equal((await echoedDirect).toString(), 'ping');

  await assert.rejects(c.connect('nobody-offers-this'), { code: 'ERR_NOT_FOUND' });
  await assert.rejects(c.connect(b.idHex), (error: Error) => /"service"/.test(error.message));
  await assert.rejects(c.connect(''), { code: 'ERR_INVALID_ARGUMENT' });
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(c.connect('echo', { signal: controller.signal }), { code: 'ERR_ABORTED' });
});

test('register({ port }) + forward(): a real HTTP server behind the mesh, reached by a real HTTP client', async (t) => {
  const [a, b, c] = await trio(t);
  const big = randomBytes(8 * 1024 * 1024);
  const server = createServer((req, res) => {
    if (req.url === '/big') {
      res.writeHead(200, { 'content-length': big.length });
      res.end(big);
      return;
    }
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => res.end(`hello ${req.url} ${body.length}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const port = (server.address() as { port: number }).port;

  await b.register('web', { port });
  const forward = await c.forward('web', { port: 0 });
  t.after(() => forward.close());
  const agent = new Agent({ keepAlive: false, maxSockets: 50 });
  t.after(() => agent.destroy());
  const get = (path: string, body = ''): Promise<{ status: number; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: forward.address.port, path, method: body ? 'POST' : 'GET', agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });

  const small = await get('/hi', 'x'.repeat(1000));
  assert.equal(small.status, 200);
  assert.equal(small.body.toString(), 'hello /hi 1000');
  const download = await get('/big');
  assert.equal(download.body.length, big.length);
  assert.ok(download.body.equals(big), 'large download is byte-exact');
  const many = await Promise.all(Array.from({ length: 40 }, (_, i) => get(`/r${i}`)));
  many.forEach((response, i) => assert.equal(response.body.toString(), `hello /r${i} 0`));
  // All of it rode one tunnel connection between c and b.
  assert.equal(c.tunnels.connections.length, 1);
  void a;
});

test('failover: a provider that is gone is skipped and the next one serves', async (t) => {
  const [a, b, c] = await trio(t);
  await a.register('svc', { handler: (stream) => stream.end('from a') });
  await b.register('svc', { handler: (stream) => stream.end('from b') });
  assert.equal((await c.lookup('svc', { fresh: true })).length, 2);
  // b disappears without withdrawing (simulating a crash): its record stays until expiry.
  await (b as unknown as { discovery: { stop(o: object): Promise<void> } }).discovery.stop({ withdraw: false });
  await b.stop();
  const replies = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const stream = await c.connect('svc', { strategy: 'round-robin' });
    replies.add((await collect(stream)).toString());
  }
  assert.deepEqual([...replies], ['from a']);
});

test('one caller aborting a connect does not fail a concurrent connect to the same provider', async (t) => {
  const [, b, c] = await trio(t);
  await b.register('echo', { handler: (stream) => stream.pipe(stream) });
  await c.lookup('echo');
  const impatient = new AbortController();
  const first = c.connect('echo', { signal: impatient.signal });
  const second = c.connect('echo');
  impatient.abort();
  await assert.rejects(first, { code: 'ERR_ABORTED' });
  const stream = await second;
  const echoed = collect(stream);
  stream.end('still works');
  assert.equal((await echoed).toString(), 'still works');
  assert.equal(c.tunnels.connections.length, 1);
});

test('a stream naming a service the provider does not (or no longer) offer is refused without crashing the provider', async (t) => {
  const [, b, c] = await trio(t);
  await b.register('echo', { handler: (stream) => stream.pipe(stream) });
  const first = await c.connect('echo');
  const firstEcho = collect(first);
  first.end('up');
  assert.equal((await firstEcho).toString(), 'up');

  // A raw stream on the live tunnel with a header for a service b never offered.
  const connection = c.tunnels.connections.find((candidate) => Buffer.from(candidate.peer).equals(Buffer.from(b.id)))!;
  assert.ok(connection, 'c holds a tunnel to b');
  const raw = connection.openStream();
  const rawOutcome = new Promise<string>((resolve) => {
    raw.on('error', (error) => resolve(`error: ${error.message}`));
    raw.on('close', () => resolve('closed'));
  });
  raw.write(streamHeader('no-such-service'));
  raw.write('hello?');
  assert.match(await rawOutcome, /error|closed/);

  // The same through the API: the tunnel is reused after the service was withdrawn.
  await b.unregister('echo');
  const stale = await c.connect(b.idHex, { service: 'echo' });
  const staleOutcome = new Promise<string>((resolve) => {
    stale.on('error', (error) => resolve(`error: ${error.message}`));
    stale.on('close', () => resolve('closed'));
  });
  stale.write('anyone?');
  assert.match(await staleOutcome, /error|closed/);

  // b survived both and still serves.
  assert.ok(b.running);
  await b.register('echo2', { handler: (stream) => stream.pipe(stream) });
  const again = await c.connect(b.idHex, { service: 'echo2' });
  const echoed = collect(again);
  again.end('still here');
  assert.equal((await echoed).toString(), 'still here');
});
