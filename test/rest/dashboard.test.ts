/**
 * The dashboard in a real browser: headless Chromium (driven by playwright-core) loads
 * `GET /` from a REST handler in front of a real node on loopback, and what the page shows
 * is checked against the node's own state, including a service registered after the page
 * loaded (it arrives over the SSE stream). Skips with the reason where no Chromium binary
 * exists, except in CI, where a missing browser is a failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { MccNode } from '../../src/index.js';
import { createRestHandler } from '../../src/rest/index.js';
import { dashboardCsp, dashboardPage } from '../../src/rest/dashboard.js';
import { formatAddress } from '../../src/util/address.js';

/** The Chromium binary: $CHROMIUM_PATH, Debian's /usr/bin/chromium, or one on PATH. */
function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((path): path is string => !!path);
  for (const path of candidates) if (existsSync(path)) return path;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      const found = execFileSync('which', [name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      if (found) return found;
    } catch {
      // not on PATH
    }
  }
  return undefined;
}

async function listen(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<{ server: Server; origin: string }> {
  const server = createServer((request, response) => handler(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Watches a page: every request URL, console errors, uncaught exceptions and dialogs. */
function observe(page: Page, origin: string): { requests: string[]; problems: string[] } {
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error' || /content security policy/i.test(message.text())) problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  // Belt and braces: nothing may leave the origin, even if the page tried.
  void page.route('**/*', (route) => (route.request().url().startsWith(`${origin}/`) ? route.continue() : route.abort()));
  return { requests, problems };
}

/** Waits until the element `selector` contains `text`. */
async function shows(page: Page, selector: string, text: string, timeout = 10_000): Promise<void> {
  try {
    await page.locator(selector, { hasText: text }).first().waitFor({ timeout });
  } catch {
    const actual = await page
      .locator(selector)
      .first()
      .innerText()
      .catch(() => '(element missing)');
    assert.fail(`${selector} should show ${JSON.stringify(text)} within ${timeout} ms; it shows:\n${actual}`);
  }
}

test('dashboard: GET / serves the page to browsers (with its CSP) and node info JSON to other clients', async (t) => {
  const node = await MccNode.create({ host: '127.0.0.1' });
  await node.start();
  const { server, origin } = await listen(createRestHandler(node));
  t.after(async () => {
    await closeServer(server);
    await node.stop();
  });
  const html = await fetch(`${origin}/`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
  assert.equal(html.status, 200);
  assert.equal(html.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(html.headers.get('content-security-policy'), dashboardCsp());
  assert.equal(await html.text(), dashboardPage());
  const csp = dashboardCsp();
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/]{43}='/);
  assert.match(csp, /style-src 'sha256-[A-Za-z0-9+/]{43}='/);
  assert.match(csp, /connect-src 'self'/);
  assert.doesNotMatch(csp, /unsafe/);
  // The page itself carries nothing from the node and fetches nothing from elsewhere.
  const page = dashboardPage();
  assert.equal(page.includes(node.idHex), false);
  assert.doesNotMatch(page, /\b(src|href)=["']?(https?:)?\/\//i);
  assert.doesNotMatch(page, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
  const json = await fetch(`${origin}/`, { headers: { accept: 'application/json' } });
  assert.match(json.headers.get('content-type') ?? '', /application\/json/);
  assert.equal(((await json.json()) as { id: string }).id, node.idHex);
});

test("dashboard in headless Chromium shows the node's real state and follows it live over SSE", async (t) => {
  const executablePath = findChromium();
  if (!executablePath) {
    const reason = 'no Chromium binary (looked at $CHROMIUM_PATH, /usr/bin/chromium, chromium on PATH); apt-get install chromium to run this test';
    if (process.env.CI === 'true') assert.fail(`CI must run the dashboard test: ${reason}`);
    t.skip(reason);
    return;
  }
  const { chromium } = await import('playwright-core');

  // Three nodes on loopback: a and b provide 'web' (b with metadata that looks like markup),
  // c is the node whose dashboard we load: it provides 'api', looked 'web' up and forwards to it.
  const a = await MccNode.create({ host: '127.0.0.1' });
  await a.start();
  const b = await MccNode.create({ host: '127.0.0.1', bootstrap: [formatAddress(a.address)] });
  const c = await MccNode.create({ host: '127.0.0.1', bootstrap: [formatAddress(a.address)] });
  const nodes = [a, b, c];
  t.after(() => Promise.all(nodes.map((node) => node.stop())));
  await Promise.all([b.start(), c.start()]);

  const hostile = '<img src=x onerror=alert(1)><script>alert(2)</script>';
  const echo = (stream: import('node:stream').Duplex): void => void stream.pipe(stream);
  await a.register('web', { handler: echo, metadata: { region: 'eu-west' } });
  await b.register('web', { handler: echo, metadata: { region: 'us-east', note: hostile } });
  await c.register('api', { port: 8080, metadata: { version: '1.4.2' } });

  // Look 'web' up until both providers are found (records take a moment to reach the holders).
  let providers = await c.lookup('web');
  for (let attempt = 0; attempt < 20 && providers.length < 2; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    providers = await c.lookup('web', { fresh: true });
  }
  assert.equal(providers.length, 2, 'c found both providers of web');

  const forward = await c.forward('web', { port: 0 });
  t.after(() => forward.close());
  // One round trip through the forward, so that a tunnel is open.
  await new Promise<void>((resolve, reject) => {
    const socket = tcpConnect(forward.address.port, '127.0.0.1');
    socket.once('error', reject);
    socket.write('ping');
    socket.once('data', (data) => {
      assert.equal(data.toString(), 'ping');
      socket.end();
      resolve();
    });
  });
  assert.ok(c.tunnelConnections().length >= 1, 'c has a tunnel open');

  const { server, origin } = await listen(createRestHandler(c));
  t.after(() => closeServer(server));

  const browser: Browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const seen = observe(page, origin);

  const response = await page.goto(`${origin}/`);
  assert.ok(response, 'the page loaded');
  assert.equal(response.status(), 200);
  assert.equal(response.headers()['content-security-policy'], dashboardCsp());

  // Identity, address, NAT status and the live indicator.
  await shows(page, '#node-id', c.idHex);
  await shows(page, '#node-address', formatAddress(c.address));
  await shows(page, '#nat-mapping', c.stats().nat.mapping);
  await shows(page, '#status-text', 'live');

  // Peers: every peer the node knows.
  for (const peer of c.peers()) await shows(page, '#peers-body', peer.id);
  assert.ok(c.peers().length >= 2, 'c knows a and b');

  // This node's services.
  await shows(page, '#services-body', 'api');
  await shows(page, '#services-body', '127.0.0.1:8080');
  await shows(page, '#services-body', 'version=1.4.2');

  // The providers it looked up, with their metadata as text (never as markup).
  await shows(page, '#lookups-body', 'web');
  for (const provider of providers) await shows(page, '#lookups-body', provider.id);
  await shows(page, '#lookups-body', 'region=us-east');
  await shows(page, '#lookups-body', `note=${hostile}`);
  assert.equal(await page.locator('img').count(), 0, 'metadata markup was not parsed');
  assert.equal(await page.locator('script').count(), 1, "only the page's own script");

  // Forwards and tunnels.
  await shows(page, '#forwards-body', `127.0.0.1:${forward.address.port}`);
  for (const tunnel of c.tunnelConnections()) await shows(page, '#tunnels-body', tunnel.peer);

  // Live counters: the page's datagram count follows the node's (it only grows).
  const inbound = Number((await page.locator('#tiles .tile', { hasText: 'Datagrams in' }).locator('.v').innerText()).replace(/,/g, ''));
  assert.ok(inbound > 0 && inbound <= c.stats().datagramsIn, `datagrams in shown as ${inbound}, node has ${c.stats().datagramsIn}`);

  // A service registered after the page loaded arrives over the event stream.
  const stateRequestsBefore = seen.requests.filter((url) => url.endsWith('/v1/state')).length;
  await c.register('metrics-late', { port: 9100, metadata: { added: 'after load' } });
  await shows(page, '#services-body', 'metrics-late', 5_000);
  await shows(page, '#services-body', 'added=after load', 5_000);
  assert.equal(seen.requests.filter((url) => url.endsWith('/v1/state')).length, stateRequestsBefore, 'it came over SSE, not a reload');

  // A closed service disappears the same way.
  await c.unregister('metrics-late');
  await page.locator('#services-body', { hasText: 'metrics-late' }).waitFor({ state: 'detached', timeout: 5_000 });

  // Nothing left the origin; no CSP violation, console error or dialog.
  assert.ok(seen.requests.length >= 3, 'the page, v1/state and v1/events');
  for (const url of seen.requests) assert.ok(url.startsWith(`${origin}/`) || url.startsWith('data:'), `request to ${url} left the origin`);
  assert.ok(seen.requests.includes(`${origin}/v1/events`), 'the page follows v1/events');
  assert.deepEqual(seen.problems, []);
  // The inline style applied under the CSP (a blocked style sheet leaves the header transparent).
  assert.notEqual(await page.evaluate('getComputedStyle(document.querySelector("header")).backgroundColor'), 'rgba(0, 0, 0, 0)');
});

test('dashboard in headless Chromium: mounted under a prefix, with a token from ?access_token= sent as a bearer header, reconnecting after the stream ends', async (t) => {
  const executablePath = findChromium();
  if (!executablePath) {
    const reason = 'no Chromium binary (looked at $CHROMIUM_PATH, /usr/bin/chromium, chromium on PATH); apt-get install chromium to run this test';
    if (process.env.CI === 'true') assert.fail(`CI must run the dashboard test: ${reason}`);
    t.skip(reason);
    return;
  }
  const { chromium } = await import('playwright-core');
  const node = await MccNode.create({ host: '127.0.0.1' });
  await node.start();
  t.after(() => node.stop());
  const token = 'dashboard-test-token';
  const handler = createRestHandler(node, { token });
  // The handler mounted under /mcc, as app.use('/mcc', handler) does: the prefix is stripped.
  const streams = new Set<ServerResponse>();
  const { server, origin } = await listen((request, response) => {
    const url = request.url ?? '/';
    if (url !== '/mcc' && !url.startsWith('/mcc/') && !url.startsWith('/mcc?')) {
      response.writeHead(404).end();
      return;
    }
    request.url = url.slice(4) || '/';
    if (request.url.startsWith('?')) request.url = `/${request.url}`;
    if (request.url.startsWith('/v1/events')) {
      streams.add(response);
      response.once('close', () => streams.delete(response));
    }
    handler(request, response);
  });
  t.after(() => closeServer(server));

  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 420, height: 900 } });
  const seen = observe(page, origin);
  const authorizations: Array<string | undefined> = [];
  page.on('request', (request) => {
    if (request.url().includes('/v1/')) authorizations.push(request.headers()['authorization']);
  });

  await page.goto(`${origin}/mcc?access_token=${token}`);
  await shows(page, '#node-id', node.idHex);
  await shows(page, '#status-text', 'live');
  assert.ok(seen.requests.includes(`${origin}/mcc/v1/state`), 'relative to the mount point');
  assert.ok(seen.requests.includes(`${origin}/mcc/v1/events`));
  assert.ok(authorizations.length >= 2);
  for (const header of authorizations) assert.equal(header, `Bearer ${token}`);

  // The server ends the stream: the page says so and comes back by itself.
  assert.ok(streams.size >= 1);
  for (const response of streams) response.destroy();
  await shows(page, '#status-text', 'reconnecting', 5_000);
  await shows(page, '#status-text', 'live', 10_000);
  await node.register('after-reconnect', { port: 7000 });
  await shows(page, '#services-body', 'after-reconnect', 5_000);

  // In a narrow window nothing is wider than the viewport but the tables' own scroll boxes.
  const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  assert.ok(Number(overflow) <= 0, `the page scrolls sideways by ${String(overflow)} px at 420 px`);
  for (const url of seen.requests) assert.ok(url.startsWith(`${origin}/`), `request to ${url} left the origin`);
  // The failed reads while the stream was cut are network errors, not page errors.
  assert.deepEqual(
    seen.problems.filter((problem) => !/net::ERR_|Failed to load resource/.test(problem)),
    [],
  );
});
