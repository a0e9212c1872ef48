import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { EventReader, call, plainNode, restNode } from './rest-helpers.js';

/** A real web server standing in for an existing application. */
async function webServer(t: { after: (fn: () => unknown) => void }): Promise<number> {
  const server = createServer((request, response) => response.end(`hello from the web server, you asked for ${request.url}`));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as { port: number }).port;
}

test('REST end to end: register on one node, watch, look up and forward on another, fetch a page through the tunnel, withdraw', async (t) => {
  const seed = await plainNode(t);
  const provider = await restNode(t, { bootstrap: seed });
  const client = await restNode(t, { bootstrap: seed });
  const webPort = await webServer(t);

  const watch = await EventReader.open(`${client.base}/v1/services/web/events`);
  t.after(() => watch.close());

  const registered = await call(provider.base, 'POST', '/v1/services', { name: 'web', port: webPort, metadata: { region: 'eu' }, ttl: 60_000 });
  const registeredAt = performance.now();
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  assert.deepEqual(registered.body, {
    name: 'web',
    state: 'published',
    target: `127.0.0.1:${webPort}`,
    metadata: { region: 'eu' },
    ttlMs: 60_000,
    stored: registered.body.stored,
    visibility: 'public',
  });
  assert.ok(registered.body.stored >= 1);
  assert.equal(registered.headers.get('location'), 'services/web');

  const added = await watch.next((event) => event.event === 'added' && event.data.provider.id === provider.node.idHex, 5000);
  console.log(`SSE 'added' ${Math.round(added.at - registeredAt)} ms after the register answer`);
  assert.ok(added.at - registeredAt < 1000, `added event within a second (took ${Math.round(added.at - registeredAt)} ms)`);
  assert.deepEqual(added.data.provider.metadata, { region: 'eu' });

  const listed = await call(provider.base, 'GET', '/v1/services');
  assert.deepEqual(
    listed.body.services.map((service: { name: string }) => service.name),
    ['web'],
  );

  const found = await call(client.base, 'GET', '/v1/services/web/providers');
  assert.equal(found.status, 200);
  assert.equal(found.body.name, 'web');
  assert.equal(found.body.nextCursor, null);
  assert.deepEqual(
    found.body.providers.map((p: { id: string }) => p.id),
    [provider.node.idHex],
  );
  assert.deepEqual(found.body.providers[0].addresses, [`127.0.0.1:${provider.node.address.port}`]);

  const forward = await call(client.base, 'POST', '/v1/forwards', { name: 'web', port: 0 });
  assert.equal(forward.status, 201, JSON.stringify(forward.body));
  assert.equal(forward.body.host, '127.0.0.1');
  const page = await fetch(`http://127.0.0.1:${forward.body.port}/index.html`);
  assert.equal(await page.text(), 'hello from the web server, you asked for /index.html');
  const forwards = await call(client.base, 'GET', '/v1/forwards');
  assert.deepEqual(
    forwards.body.forwards.map((f: { name: string; port: number }) => [f.name, f.port]),
    [['web', forward.body.port]],
  );

  const state = await call(client.base, 'GET', '/v1/state');
  assert.equal(state.body.node.id, client.node.idHex);
  assert.ok(
    state.body.lookups.some(
      (lookup: { name: string; providers: Array<{ id: string }> }) => lookup.name === 'web' && lookup.providers[0]?.id === provider.node.idHex,
    ),
  );
  assert.ok(
    state.body.tunnels.some((tunnel: { peer: string }) => tunnel.peer === provider.node.idHex),
    'the tunnel to the provider is listed',
  );

  const removedFrom = watch.events.length;
  const withdrawn = await call(provider.base, 'DELETE', '/v1/services/web');
  const withdrawnAt = performance.now();
  assert.equal(withdrawn.status, 204);
  const removed = await watch.next((event) => event.event === 'removed' && event.data.provider.id === provider.node.idHex, 5000, removedFrom);
  console.log(`SSE 'removed' ${Math.round(removed.at - withdrawnAt)} ms after the unregister answer`);
  assert.ok(removed.at - withdrawnAt < 1000, `removed event within a second (took ${Math.round(removed.at - withdrawnAt)} ms)`);
  assert.equal((await call(provider.base, 'DELETE', '/v1/services/web')).status, 404, 'a second withdrawal: nothing registered');

  assert.equal((await call(client.base, 'DELETE', `/v1/forwards/${forward.body.port}`)).status, 204);
  await assert.rejects(fetch(`http://127.0.0.1:${forward.body.port}/`), 'the forward no longer listens');
  assert.deepEqual((await call(client.base, 'GET', '/v1/forwards')).body.forwards, []);
});

test('REST lookup pages providers by node ID with limit and cursor', async (t) => {
  const seed = await plainNode(t);
  const client = await restNode(t, { bootstrap: seed });
  const providers = [seed, await plainNode(t, seed), await plainNode(t, seed)];
  for (const node of providers) await node.register('pages', { handler: (stream) => stream.end() });
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: { status: number; body: { providers: Array<{ id: string }>; nextCursor: string | null } } = await call(
      client.base,
      'GET',
      `/v1/services/pages/providers?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
    );
    assert.equal(page.status, 200);
    assert.ok(page.body.providers.length <= 2);
    seen.push(...page.body.providers.map((provider) => provider.id));
    cursor = page.body.nextCursor;
    pages++;
  } while (cursor !== null && pages < 5);
  assert.equal(pages, 2);
  assert.deepEqual(seen, providers.map((node) => node.idHex).sort());
});

test('REST DHT put/get (immutable and mutable), ping and peers across nodes', async (t) => {
  const seed = await plainNode(t);
  const a = await restNode(t, { bootstrap: seed });
  const b = await restNode(t, { bootstrap: seed });

  const value = Buffer.from('a small value').toString('base64');
  const put = await call(a.base, 'POST', '/v1/dht', { value });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.match(put.body.key, /^[0-9a-f]{64}$/);
  assert.equal(put.body.seq, null);
  const got = await call(b.base, 'GET', `/v1/dht/${put.body.key}`);
  assert.deepEqual(got.body, { key: put.body.key, value, seq: null, publicKey: null });

  const salt = Buffer.from('profile').toString('base64');
  const first = await call(a.base, 'POST', '/v1/dht', { value: Buffer.from('v1').toString('base64'), mutable: true, salt, seq: 1 });
  const second = await call(a.base, 'POST', '/v1/dht', { value: Buffer.from('v2').toString('base64'), mutable: true, salt, seq: 2 });
  assert.equal(second.body.key, first.body.key, 'same author and salt, same key');
  const mutable = await call(b.base, 'GET', `/v1/dht/${first.body.key}`);
  assert.equal(Buffer.from(mutable.body.value, 'base64').toString(), 'v2');
  assert.equal(mutable.body.seq, 2);
  assert.equal(mutable.body.publicKey, a.node.idHex);

  const missing = await call(b.base, 'GET', `/v1/dht/${'00'.repeat(32)}`);
  assert.equal(missing.status, 404);
  assert.equal(missing.body.code, 'ERR_NOT_FOUND');

  const pong = await call(b.base, 'POST', '/v1/ping', { address: `127.0.0.1:${seed.address.port}` });
  assert.equal(pong.status, 200);
  assert.equal(pong.body.id, seed.idHex);
  assert.equal(pong.body.observed, `127.0.0.1:${b.node.address.port}`);
  const peers = await call(b.base, 'GET', '/v1/peers');
  assert.ok(peers.body.peers.some((peer: { id: string; address: string }) => peer.id === seed.idHex && peer.address === `127.0.0.1:${seed.address.port}`));

  const info = await call(b.base, 'GET', '/v1/node');
  assert.equal(info.body.id, b.node.idHex);
  assert.equal(info.body.address, `127.0.0.1:${b.node.address.port}`);
  assert.equal(info.body.running, true);
  assert.equal(info.body.peers, b.node.stats().peers);
  const root = await call(b.base, 'GET', '/', undefined, { accept: 'application/json' });
  assert.equal(root.body.id, b.node.idHex, 'GET / for a non-browser client is the node info');
});

test('GET /metrics: every counter of node.stats() in the Prometheus text format, with HELP and TYPE lines', async (t) => {
  const seed = await plainNode(t);
  const a = await restNode(t, { bootstrap: seed });
  const response = await fetch(`${a.base}/metrics`);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  const lines = text.trimEnd().split('\n');
  const described = new Set<string>();
  const typed = new Map<string, string>();
  for (const line of lines) {
    const help = /^# HELP (mcc_[a-z0-9_]+) .+$/.exec(line);
    const type = /^# TYPE (mcc_[a-z0-9_]+) (counter|gauge)$/.exec(line);
    if (help) described.add(help[1]);
    else if (type) typed.set(type[1], type[2]);
    else assert.match(line, /^(mcc_[a-z0-9_]+)(\{[a-z]+="[a-z-]+"\})? -?\d+(\.\d+)?(e[+-]?\d+)?$/, `sample line: ${line}`);
  }
  for (const line of lines.filter((candidate) => !candidate.startsWith('#'))) {
    const name = /^(mcc_[a-z0-9_]+)/.exec(line)![1];
    assert.ok(described.has(name) && typed.has(name), `${name} has HELP and TYPE`);
    if (typed.get(name) === 'counter') assert.match(name, /_total$/);
  }
  // Every number in stats() (outside the NAT status, which is partly text) is exported.
  const stats = a.node.stats();
  const leaves = (value: unknown): number =>
    typeof value === 'number' ? 1 : value && typeof value === 'object' ? Object.values(value).reduce<number>((sum, inner) => sum + leaves(inner), 0) : 0;
  const { nat: _nat, ...counters } = stats;
  const samples = lines.filter((line) => !line.startsWith('#')).length;
  assert.ok(samples >= leaves(counters), `${samples} samples for ${leaves(counters)} counters`);
  assert.match(text, /^mcc_datagrams_in_total [1-9]\d*$/m);
  assert.match(text, /^mcc_dropped_datagrams_total\{reason="unauthenticated"\} \d+$/m);
  assert.match(text, /^mcc_peers [1-9]\d*$/m);
  assert.match(text, /^mcc_dropped_total \d+$/m, 'a stats field already ending in Total is not suffixed twice');
  assert.doesNotMatch(text, /_total_total/);
});
