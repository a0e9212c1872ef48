#!/usr/bin/env node
/**
 * The `mcc` command: `mcc start` runs a node (the daemon); the other commands talk to a
 * running daemon through its REST API. Exit codes: 0 success, 1 runtime failure, 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { MccError } from '../errors.js';
import { UsageError, commandOf, parseCommand } from './args.js';
import { helpText } from './help.js';
import { runStart } from './start.js';
import { runClient } from './client.js';
import { runOrg } from './org.js';

async function main(argv: string[]): Promise<number> {
  // The organisation tools run offline (no daemon, no REST): their own parser.
  if (argv[0] === 'org') return runOrg(argv.slice(1));
  const command = parseCommand(argv);
  switch (command.command) {
    case 'help':
      process.stdout.write(helpText(command.topic));
      return 0;
    case 'version': {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
      console.log(pkg.version);
      return 0;
    }
    case 'start':
      return runStart(command.flags);
    default:
      return runClient(command.command, command.args, command.flags);
  }
}

function report(argv: string[], error: unknown): number {
  const name = commandOf(argv);
  const prefix = name ? `mcc ${name}` : 'mcc';
  if (error instanceof UsageError) {
    console.error(`${prefix}: ${error.message} (see ${prefix} --help)`);
    return 2;
  }
  const message = error instanceof MccError ? `${error.code}: ${error.message}` : ((error as Error)?.message ?? String(error));
  console.error(`${prefix}: ${message}`);
  return 1;
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => {
    process.exitCode = code;
    // Whatever handle something leaked, the process ends soon after the command is done.
    setTimeout(() => process.exit(code), 1_000).unref();
  },
  (error: unknown) => {
    process.exitCode = report(argv, error);
    setTimeout(() => process.exit(process.exitCode as number), 1_000).unref();
  },
);
