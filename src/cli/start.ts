/**
 * `mcc start`: the daemon. Runs a node with a persistent identity, exposes and forwards the
 * services it was given, serves the REST API (127.0.0.1:7700 by default) and advertises it
 * in `<configDir>/daemon.json` until SIGINT/SIGTERM.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MccNode } from '../node/node.js';
import { createRestHandler } from '../rest/index.js';
import { formatAddress, type Address } from '../util/address.js';
import type { StartFlags } from './args.js';
import {
  daemonFilePath,
  ensureConfigDir,
  processAlive,
  readDaemonFile,
  removeDaemonFile,
  resolveStartOptions,
  writeDaemonFile,
  type StartOptions,
} from './config.js';

/** How long stopping may take after a signal before the process exits anyway (the issue asks for < 5 s in all). */
const STOP_DEADLINE_MS = 4_000;

/** Runs the daemon until a signal; resolves with the exit code. Usage errors throw UsageError before anything opens. */
export async function runStart(flags: StartFlags): Promise<number> {
  // Check every setting before anything opens, so a bad one never leaves a node running.
  const options = resolveStartOptions(flags);
  ensureConfigDir(options.configDir);
  await refuseSecondDaemon(options.configDir);

  const stopping = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      console.error(`mcc: ${signal} again, exiting now`);
      process.exit(1); // the 'exit' handler still removes daemon.json
    }
    console.log(`mcc: ${signal}, stopping`);
    stopping.abort();
  };
  const onExit = (): void => removeDaemonFile(options.configDir);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);

  // The config directory is the node's data directory: a restarted daemon keeps its port, peers and exposed services.
  const node = await MccNode.create({
    host: options.host,
    port: options.port,
    bootstrap: options.bootstrap,
    identity: options.identity,
    dataDir: options.configDir,
    ...(options.credential ? { consortium: { credential: options.credential, trust: options.trust } } : {}),
  });
  node.on('warning', (error) => console.error(`mcc: warning: ${error.message}`));
  let server: Server | undefined;
  try {
    // A signal during startup aborts it; once started, the signal only triggers stop(). (A signal
    // given to register() that fires later unregisters on its own, racing stop()'s withdrawals.)
    const startup = new AbortController();
    const abortStartup = (): void => startup.abort();
    stopping.signal.addEventListener('abort', abortStartup, { once: true });
    try {
      await node.start({ signal: startup.signal });
      console.log(`mcc: node ${node.idHex}`);
      console.log(`mcc: listening on udp ${formatAddress(node.address)}`);
      await applyServices(node, options, startup.signal);
    } finally {
      stopping.signal.removeEventListener('abort', abortStartup);
    }
    if (options.rest && !stopping.signal.aborted) {
      server = await listenRest(node, options.rest, options.token);
      const bound = server.address() as AddressInfo;
      // daemon.json first: whoever waits for the line below (scripts, tests) then finds the file.
      writeDaemonFile(options.configDir, {
        url: `http://${formatAddress(clientAddress({ host: options.rest.host, port: bound.port }))}`,
        token: options.token ?? null,
        pid: process.pid,
      });
      console.log(`mcc: rest on http://${formatAddress({ host: options.rest.host, port: bound.port })}`);
    }
    if (!stopping.signal.aborted) await new Promise((resolve) => stopping.signal.addEventListener('abort', resolve, { once: true }));
  } catch (error) {
    if (!stopping.signal.aborted) throw error;
  } finally {
    removeDaemonFile(options.configDir);
    await shutdown(node, server);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
  }
  console.log('mcc: stopped');
  return 0;
}

/** Another daemon answering for this config directory? Then starting a second one with the same identity is refused. */
async function refuseSecondDaemon(dir: string): Promise<void> {
  let existing;
  try {
    existing = readDaemonFile(dir);
  } catch {
    return; // malformed: ours to overwrite
  }
  if (!existing || existing.pid === process.pid || !processAlive(existing.pid)) return;
  const answered = await fetch(`${existing.url}/v1/node`, { signal: AbortSignal.timeout(1_000) }).then(
    () => true,
    () => false,
  );
  if (answered) {
    throw new Error(
      `a daemon is already running for ${dir} (pid ${existing.pid}, ${existing.url}); stop it first, or give this one another --config-dir (see ${daemonFilePath(dir)})`,
    );
  }
}

/** --expose and --forward, applied directly on the node. A forward listens even while its service has no provider. */
async function applyServices(node: MccNode, options: StartOptions, signal: AbortSignal): Promise<void> {
  for (const service of options.expose) {
    if (signal.aborted) return;
    const registration = await node.register(service.name, { host: service.host, port: service.port, signal });
    console.log(`mcc: exposing ${service.name} -> ${formatAddress(service)} (stored on ${registration.stored} node${registration.stored === 1 ? '' : 's'})`);
  }
  for (const forward of options.forward) {
    if (signal.aborted) return;
    const handle = await node.forward(forward.name, { port: forward.port, host: forward.host });
    console.log(`mcc: forwarding ${formatAddress(handle.address)} -> ${forward.name}`);
  }
}

/** The REST handler with the daemon's token (the adapter checks `Authorization: Bearer`). */
function restHandler(node: MccNode, token: string | undefined): RequestListener {
  return createRestHandler(node, token === undefined ? {} : { token });
}

async function listenRest(node: MccNode, address: Address, token: string | undefined): Promise<Server> {
  const server = createServer(restHandler(node, token));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'the address is in use (another mcc start? try --rest 127.0.0.1:0 or --no-rest)' : error.message;
      reject(new Error(`--rest ${formatAddress(address)}: cannot listen: ${why}`));
    });
    server.listen(address.port, address.host, () => resolve());
  });
  return server;
}

/** Where a client on this machine reaches a server bound to `address` (a wildcard bind is reached through loopback). */
function clientAddress(address: Address): Address {
  if (address.host === '0.0.0.0') return { host: '127.0.0.1', port: address.port };
  if (address.host === '::') return { host: '::1', port: address.port };
  return address;
}

/**
 * Stops the node (its signed withdrawals) and the REST server without waiting for HTTP
 * clients: server.close() alone waits for every open connection, so one client holding a
 * request open would keep the process (and the provider records) alive after SIGINT.
 * Past the deadline the process exits anyway.
 */
async function shutdown(node: MccNode, server: Server | undefined): Promise<void> {
  const closing = server?.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
  server?.closeAllConnections();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), STOP_DEADLINE_MS)));
  const outcome = await Promise.race([Promise.all([closing, node.stop()]).then(() => 'done' as const), deadline]);
  clearTimeout(timer);
  if (outcome === 'late') {
    console.error(`mcc: stopping took more than ${STOP_DEADLINE_MS / 1000} s; exiting without waiting`);
    process.exit(1);
  }
}
