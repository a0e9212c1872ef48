/**
 * Takes the README's dashboard screenshot (docs/dashboard.png, 1280x900): a small mesh on
 * loopback with services, lookups, a forward carrying traffic and open tunnels, and the
 * dashboard of one of its nodes in headless Chromium.
 *
 *   node --import tsx scripts/dashboard-screenshot.ts [out.png]
 *
 * Needs a Chromium binary ($CHROMIUM_PATH or /usr/bin/chromium). Everything stays on 127.0.0.1.
 */
import { createServer, type Server } from 'node:http';
import { connect as tcpConnect, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { chromium } from 'playwright-core';
import { MccNode } from '../src/index.js';
import { createRestHandler } from '../src/rest/index.js';
import { formatAddress } from '../src/util/address.js';

const out = process.argv[2] ?? new URL('../docs/dashboard.png', import.meta.url).pathname;
const executablePath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].find((path): path is string => !!path && existsSync(path));
if (!executablePath) throw new Error('no Chromium: set CHROMIUM_PATH or apt-get install chromium');

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const echo = (stream: Duplex): void => void stream.pipe(stream);

const seed = await MccNode.create({ host: '127.0.0.1' });
await seed.start();
const others = await Promise.all(Array.from({ length: 4 }, () => MccNode.create({ host: '127.0.0.1', bootstrap: [formatAddress(seed.address)] })));
await Promise.all(others.map((node) => node.start()));
const nodes = [seed, ...others];
const [, web1, web2, db, self] = nodes as [MccNode, MccNode, MccNode, MccNode, MccNode];

let server: Server | undefined;
const sockets: Socket[] = [];
try {
  await web1.register('web', { handler: echo, metadata: { region: 'eu-west', version: '2.3.1' } });
  await web2.register('web', { handler: echo, metadata: { region: 'us-east', version: '2.3.1' } });
  await db.register('postgres', { handler: echo, metadata: { role: 'primary' } });
  await self.register('api', { port: 8080, metadata: { version: '1.4.2', region: 'eu-west' } });
  await self.register('metrics', { port: 9100 });

  for (const name of ['postgres', 'web']) {
    for (let attempt = 0; attempt < 20; attempt++) {
      const found = await self.lookup(name, { fresh: true });
      if (found.length >= (name === 'web' ? 2 : 1)) break;
      await sleep(250);
    }
  }

  const forward = await self.forward('web', { port: 0 });
  await self.forward('postgres', { port: 0 });
  // A few connections through the 'web' forward, kept open and busy while the page loads.
  for (let i = 0; i < 3; i++) {
    const socket = tcpConnect(forward.address.port, '127.0.0.1');
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    sockets.push(socket);
  }
  const traffic = setInterval(() => {
    for (const socket of sockets) socket.write(Buffer.alloc(4096, 0x61));
  }, 100);

  server = createServer(createRestHandler(self));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1, colorScheme: 'light' });
    await page.route('**/*', (route) => (route.request().url().startsWith(`${origin}/`) ? route.continue() : route.abort()));
    await page.goto(`${origin}/`);
    await page.locator('#status', { hasText: 'live' }).waitFor({ timeout: 10_000 });
    await sleep(3500); // a few state events, so the counters show rates
    await page.screenshot({ path: out });
    if (process.env.FULL_PAGE) await page.screenshot({ path: process.env.FULL_PAGE, fullPage: true });
    console.log(`wrote ${out}`);
  } finally {
    clearInterval(traffic);
    await browser.close();
  }
} finally {
  for (const socket of sockets) socket.destroy();
  if (server) {
    server.closeAllConnections();
    await new Promise((resolve) => server!.close(resolve));
  }
  await Promise.all(nodes.map((node) => node.stop()));
}
