/**
 * An unmodified web server reached through the mesh: node B exposes a local HTTP
 * server as the service "web"; node C forwards a local port to it; a plain HTTP
 * client talks to localhost and never knows the mesh is there.
 *
 *   node --import tsx examples/web-through-mesh.ts
 */
import { createServer } from 'node:http';
import { MccNode, formatAddress } from 'mcc-mesh';

// An ordinary HTTP server on 127.0.0.1, knowing nothing of mcc-mesh.
const web = createServer((request, response) => response.end(`hello from the web server, you asked for ${request.url}\n`));
await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
const webPort = (web.address() as { port: number }).port;

const seed = await MccNode.create({ host: '127.0.0.1' });
await seed.start();
const provider = await MccNode.create({ host: '127.0.0.1', bootstrap: [seed.address] });
const client = await MccNode.create({ host: '127.0.0.1', bootstrap: [seed.address] });
await Promise.all([provider.start(), client.start()]);

await provider.register('web', { port: webPort, metadata: { note: 'demo web server' } });
const forward = await client.forward('web', { port: 0 });
const url = `http://${formatAddress(forward.address)}/index.html`;
console.log(`the web server listens on 127.0.0.1:${webPort}; the client node forwards ${formatAddress(forward.address)} to "web"`);

const reply = await fetch(url);
console.log(`GET ${url} -> ${reply.status}: ${(await reply.text()).trim()}`);

await forward.close();
await Promise.all([seed.stop(), provider.stop(), client.stop()]);
await new Promise((resolve) => web.close(resolve));
