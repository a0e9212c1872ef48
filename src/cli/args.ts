/**
 * Command-line parsing for `mcc`: which command, its flags and positionals, and the value
 * parsers (ports, `host:port`, `NAME=HOST:PORT`) shared by flags, environment and config file.
 * Every problem is a {@link UsageError} naming the option; parseArgs' own messages never escape.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { encodeServiceName } from '../discovery/service-name.js';

/** A usage problem: `mcc` prints `mcc COMMAND: message (see mcc COMMAND --help)` and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const CLIENT_COMMANDS = ['status', 'id', 'lookup', 'expose', 'unexpose', 'forward', 'unforward', 'peers'] as const;
export type ClientCommandName = (typeof CLIENT_COMMANDS)[number];
export type CommandName = 'start' | ClientCommandName;

/** `mcc start`'s flags as typed (raw text; merged with environment and config file in config.ts). */
export interface StartFlags {
  host?: string | undefined;
  port?: string | undefined;
  bootstrap?: string[] | undefined;
  identity?: string | undefined;
  rest?: string | undefined;
  noRest: boolean;
  token?: string | undefined;
  expose?: string[] | undefined;
  forward?: string[] | undefined;
  config?: string | undefined;
  configDir?: string | undefined;
  credential?: string | undefined;
  trust?: string[] | undefined;
}

/** The flags every client command takes (metadata, ttl and visibility only for expose). */
export interface ClientFlags {
  json: boolean;
  rest?: string | undefined;
  token?: string | undefined;
  configDir?: string | undefined;
  metadata?: string | undefined;
  ttl?: string | undefined;
  visibility?: string | undefined;
}

/** A parsed command line. */
export type Command =
  | { command: 'help'; topic?: CommandName }
  | { command: 'version' }
  | { command: 'start'; flags: StartFlags }
  | { command: ClientCommandName; args: string[]; flags: ClientFlags };

type Options = NonNullable<ParseArgsConfig['options']>;

const CLIENT_OPTIONS: Options = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  rest: { type: 'string' },
  token: { type: 'string' },
  'config-dir': { type: 'string' },
};

const START_OPTIONS: Options = {
  help: { type: 'boolean', short: 'h' },
  host: { type: 'string' },
  port: { type: 'string', short: 'p' },
  bootstrap: { type: 'string', short: 'b', multiple: true },
  identity: { type: 'string' },
  rest: { type: 'string' },
  'no-rest': { type: 'boolean' },
  token: { type: 'string' },
  expose: { type: 'string', short: 'e', multiple: true },
  forward: { type: 'string', short: 'f', multiple: true },
  config: { type: 'string', short: 'c' },
  'config-dir': { type: 'string' },
  credential: { type: 'string' },
  trust: { type: 'string', multiple: true },
};

/** Positional arguments of each client command, by name (for messages). */
const POSITIONALS: Record<ClientCommandName, string[]> = {
  status: [],
  id: [],
  lookup: ['NAME'],
  expose: ['NAME', 'HOST:PORT'],
  unexpose: ['NAME'],
  forward: ['NAME', 'PORT'],
  unforward: ['PORT'],
  peers: [],
};

function isCommand(word: string): word is CommandName {
  return word === 'start' || (CLIENT_COMMANDS as readonly string[]).includes(word);
}

/** Parses argv (without node and script). Throws {@link UsageError}; the caller knows the command from `commandOf(argv)`. */
export function parseCommand(argv: string[]): Command {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') return { command: 'help' };
  if (first === '--version' || first === '-v') return { command: 'version' };
  if (first === 'help') {
    const topic = rest[0];
    if (topic === undefined) return { command: 'help' };
    if (!isCommand(topic)) throw new UsageError(`unknown command "${topic}"`);
    return { command: 'help', topic };
  }
  if (first.startsWith('-')) throw new UsageError(`unknown option ${optionName(first)}; options go after the command`);
  if (!isCommand(first)) throw new UsageError(`unknown command "${first}"`);
  const options =
    first === 'start'
      ? START_OPTIONS
      : {
          ...CLIENT_OPTIONS,
          ...(first === 'expose' ? { metadata: { type: 'string' as const }, ttl: { type: 'string' as const }, visibility: { type: 'string' as const } } : {}),
        };
  const { values, positionals } = safeParse(first, rest, options);
  if (values.help) return { command: 'help', topic: first };
  if (first === 'start') {
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    return {
      command: 'start',
      flags: {
        host: str(values.host),
        port: str(values.port),
        bootstrap: list(values.bootstrap),
        identity: str(values.identity),
        rest: str(values.rest),
        noRest: values['no-rest'] === true,
        token: str(values.token),
        expose: list(values.expose),
        forward: list(values.forward),
        config: str(values.config),
        configDir: str(values['config-dir']),
        credential: str(values.credential),
        trust: list(values.trust),
      },
    };
  }
  const wanted = POSITIONALS[first];
  if (positionals.length < wanted.length) throw new UsageError(`missing ${wanted[positionals.length]}`);
  if (positionals.length > wanted.length) throw new UsageError(`unexpected argument "${positionals[wanted.length]}"`);
  return {
    command: first,
    args: positionals,
    flags: {
      json: values.json === true,
      rest: str(values.rest),
      token: str(values.token),
      configDir: str(values['config-dir']),
      metadata: str(values.metadata),
      ttl: str(values.ttl),
      visibility: str(values.visibility),
    },
  };
}

/** The command word of argv, for error messages ('' when there is none). */
export function commandOf(argv: string[]): string {
  const first = argv[0];
  return first !== undefined && isCommand(first) ? first : '';
}

type Values = Record<string, string | boolean | Array<string | boolean> | undefined>;

/** parseArgs with its errors rewritten: they name the option and never carry parseArgs' hints. */
function safeParse(command: string, args: string[], options: Options): { values: Values; positionals: string[] } {
  try {
    const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: parsed.values, positionals: parsed.positionals };
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    const quoted = /'([^']+)'/.exec(message)?.[1] ?? '';
    // "'-p, --port <value>'" names both forms: show the long one.
    const name = optionName(/--[^\s,=<]+/.exec(quoted)?.[0] ?? quoted.split(/[\s,]/)[0] ?? '');
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${name}`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      if (/does not take an argument/.test(message)) throw new UsageError(`option ${name} takes no value`);
      throw new UsageError(`option ${name} needs a value`);
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`unexpected argument (in mcc ${command})`);
    throw new UsageError(`cannot parse the arguments`);
  }
}

/** `--foo=bar` → `--foo`; keeps short forms. */
function optionName(text: string): string {
  const name = text.split('=')[0] ?? text;
  return name.length > 60 ? `${name.slice(0, 60)}…` : name;
}

function str(value: Values[string]): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function list(value: Values[string]): string[] | undefined {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : undefined;
}

// ---- value parsers (used for flags, environment variables and the config file alike) ----

/** A listen or target address. */
export interface HostPort {
  host: string;
  port: number;
}

/** A port number; `minPort` 0 allows "any free port". `label` names the option in messages. */
export function parsePort(text: string, label: string, minPort = 0): number {
  const port = /^\d{1,5}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isInteger(port) || port < minPort || port > 65535) throw new UsageError(`${label}: "${text}" is not a port number (${minPort}-65535)`);
  return port;
}

/** `host:port`, `[v6]:port`, or (with `defaultHost`) a bare port. `localhost` becomes 127.0.0.1. */
export function parseHostPort(text: string, label: string, options: { minPort?: number; defaultHost?: string } = {}): HostPort {
  const trimmed = text.trim();
  const minPort = options.minPort ?? 1;
  if (options.defaultHost !== undefined && /^\d+$/.test(trimmed)) return { host: options.defaultHost, port: parsePort(trimmed, label, minPort) };
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(trimmed) ?? /^([^:[\]\s]+):(\d+)$/.exec(trimmed);
  if (!match) throw new UsageError(`${label}: "${text}" is not HOST:PORT${options.defaultHost !== undefined ? ' or PORT' : ''}`);
  const host = match[1] === 'localhost' ? '127.0.0.1' : match[1];
  return { host, port: parsePort(match[2], label, minPort) };
}

/** Checks a service name as the node would, as a usage error. */
export function checkServiceName(name: string, label: string): string {
  try {
    encodeServiceName(name);
  } catch (error) {
    throw new UsageError(`${label}: service name ${(error as Error).message.replace(/^invalid argument "name": /, '')}`);
  }
  return name;
}

/** `NAME=HOST:PORT` (or `NAME=PORT`, host 127.0.0.1) of `--expose`: the TCP service to offer under NAME. */
export function parseExpose(text: string, label: string): { name: string } & HostPort {
  const eq = text.lastIndexOf('=');
  if (eq <= 0) throw new UsageError(`${label}: "${text}" is not NAME=HOST:PORT`);
  const name = checkServiceName(text.slice(0, eq), label);
  return { name, ...parseHostPort(text.slice(eq + 1), label, { defaultHost: '127.0.0.1' }) };
}

/** `NAME=PORT` or `NAME=HOST:PORT` of `--forward`: where to listen locally for NAME (port 0 = any free port). */
export function parseForward(text: string, label: string): { name: string } & HostPort {
  const eq = text.lastIndexOf('=');
  if (eq <= 0) throw new UsageError(`${label}: "${text}" is not NAME=PORT or NAME=HOST:PORT`);
  const name = checkServiceName(text.slice(0, eq), label);
  return { name, ...parseHostPort(text.slice(eq + 1), label, { defaultHost: '127.0.0.1', minPort: 0 }) };
}

/** The REST listen address of `mcc start`: `off`, `HOST:PORT` (port 0 = any free port) or `http://HOST:PORT`. */
export function parseRestListen(text: string, label: string): HostPort | 'off' {
  const trimmed = text.trim();
  if (/^(off|false|no|none)$/i.test(trimmed)) return 'off';
  const bare = trimmed.replace(/^http:\/\//i, '').replace(/\/+$/, '');
  return parseHostPort(bare, label, { minPort: 0 });
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === '::1' || host === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || /^::ffff:127\./i.test(host);
}
