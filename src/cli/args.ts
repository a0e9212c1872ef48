/** Argument parsing for the `mcc` command (node:util parseArgs, typed results). */
import { parseArgs } from 'node:util';
import { invalidArgument } from '../errors.js';

/** What `mcc start` was asked to do. */
export interface StartCommand {
  command: 'start';
  host: string | undefined;
  port: number;
  bootstrap: string[];
  identity: string | undefined;
  rest: string | undefined;
}

/** A parsed command line. */
export type Command = StartCommand | { command: 'help' } | { command: 'version' };

export const HELP = `mcc - run an mcc-mesh node

Usage:
  mcc start [--host HOST] [--port PORT] [--bootstrap HOST:PORT]... [--identity FILE] [--rest HOST:PORT]
  mcc --help | --version

Commands:
  start            run a node until SIGINT/SIGTERM; prints its ID and address

Options of start:
  --host HOST      address to bind (default :: with IPv4 fallback)
  --port PORT      UDP port (default 0: any free port)
  --bootstrap A    join through this node (repeatable), e.g. 203.0.113.7:4100
  --identity FILE  load the node's key from FILE, creating it (mode 0600) if missing;
                   without it the node gets a fresh identity every run
  --rest HOST:PORT serve the REST adapter there (GET /node)

Environment:
  MCC_LOG=debug|info|warn|error   log to stderr
`;

/** Parses argv (without node and script). Throws ERR_INVALID_ARGUMENT on bad input. */
export function parseCommand(argv: string[]): Command {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
      host: { type: 'string' },
      port: { type: 'string', short: 'p' },
      bootstrap: { type: 'string', short: 'b', multiple: true },
      identity: { type: 'string' },
      rest: { type: 'string' },
    },
  });
  if (values.help) return { command: 'help' };
  if (values.version) return { command: 'version' };
  const [command, ...rest] = positionals;
  if (command === undefined || command === 'help') return { command: 'help' };
  if (command !== 'start') throw invalidArgument('command', `unknown command "${command}" (try mcc --help)`);
  if (rest.length > 0) throw invalidArgument('command', `unexpected argument "${rest[0]}"`);
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalidArgument('--port', `"${values.port}" is not a port number`);
  return {
    command: 'start',
    host: values.host,
    port,
    bootstrap: values.bootstrap ?? [],
    identity: values.identity,
    rest: values.rest,
  };
}
