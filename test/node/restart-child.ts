/**
 * The provider process of test/node/restart.test.ts.
 * `first DIR BOOTSTRAP TCPPORT`: joins through BOOTSTRAP with data directory DIR, registers
 * the TCP service "web" at 127.0.0.1:TCPPORT, prints {"ready"} and runs until killed.
 * `again DIR`: the restart: the same DIR, no bootstrap, no register() call. Right after
 * start() it looks "web" up and prints {"restarted"} with what it found.
 */
import { performance } from 'node:perf_hooks';
import { MccNode } from '../../src/index.js';

const [mode, dataDir, bootstrap, tcpPort] = process.argv.slice(2) as [string, string, string | undefined, string | undefined];
const print = (value: unknown): void => console.log(JSON.stringify(value));

if (mode === 'first') {
  const node = await MccNode.create({ dataDir, host: '127.0.0.1', bootstrap: [bootstrap!], lan: false });
  await node.start();
  await node.register('web', { port: Number(tcpPort), metadata: { v: 1 } });
  print({ ready: { id: node.idHex, port: node.address.port } });
} else if (mode === 'again') {
  const node = await MccNode.create({ dataDir, host: '127.0.0.1', lan: false });
  const before = performance.now();
  await node.start();
  const startMs = performance.now() - before;
  const rpcDuringStart = node.stats().rpc.sent;
  const lookupStarted = performance.now();
  const providers = await node.lookup('web', { fresh: true });
  print({
    restarted: {
      id: node.idHex,
      port: node.address.port,
      startMs,
      rpcDuringStart,
      lookupMs: performance.now() - lookupStarted,
      providers: providers.map((provider) => ({ id: provider.id, metadata: provider.metadata })),
      registrations: node.registrations().map((info) => ({ name: info.name, target: info.target })),
    },
  });
} else {
  throw new Error(`unknown mode ${mode}`);
}
// Runs until the test kills it (SIGKILL: no withdrawal, no save on stop).
setInterval(() => undefined, 60_000);
