#!/usr/bin/env node
/** The `mcc` command: runs a node (and optionally the REST adapter) until SIGINT/SIGTERM. */
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { MccNode } from '../node.js';
import { createRestHandler } from '../rest/index.js';
import { formatAddress, parseAddress } from '../util/address.js';
import { MccError } from '../errors.js';
import { HELP, parseCommand, type StartCommand } from './args.js';

async function main(argv: string[]): Promise<number> {
  let command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    console.error(`mcc: ${(error as Error).message}\n`);
    console.error(HELP);
    return 2;
  }
  if (command.command === 'help') {
    console.log(HELP);
    return 0;
  }
  if (command.command === 'version') {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    console.log(pkg.version);
    return 0;
  }
  return start(command);
}

async function start(command: StartCommand): Promise<number> {
  // Check every argument before anything opens, so a bad one never leaves a node running.
  const restAddress = command.rest ? parseAddress(command.rest, '--rest') : undefined;
  const node = await MccNode.create({
    host: command.host,
    port: command.port,
    bootstrap: command.bootstrap,
    identity: command.identity,
  });
  node.on('warning', (error) => console.error(`mcc: warning: ${error.message}`));
  let server: ReturnType<typeof createServer> | undefined;
  try {
    await node.start();
    console.log(`mcc: node ${node.idHex}`);
    console.log(`mcc: listening on udp ${formatAddress(node.address)}`);
    if (restAddress) {
      const http = createServer(createRestHandler(node));
      server = http;
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(restAddress.port, restAddress.host, () => resolve());
      });
      console.log(`mcc: rest on http://${formatAddress(restAddress)}`);
    }
    await new Promise<void>((resolve) => {
      const onSignal = (signal: string): void => {
        console.log(`mcc: ${signal}, stopping`);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
  } finally {
    // Stop the node (its withdrawals) without waiting for HTTP clients: server.close() alone
    // waits for every open connection, so one client holding a request open would keep the
    // process (and the provider records) alive after SIGINT.
    const closing = server?.listening ? new Promise<void>((resolve) => server!.close(() => resolve())) : Promise.resolve();
    server?.closeAllConnections();
    await Promise.all([closing, node.stop()]);
  }
  console.log('mcc: stopped');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`mcc: ${error instanceof MccError ? `${error.code}: ` : ''}${(error as Error)?.message ?? error}`);
    process.exitCode = 1;
  },
);
