/**
 * Where `mcc` keeps its state and how `mcc start`'s settings are found: the config
 * directory (XDG), the JSON config file, `MCC_*` environment variables, and `daemon.json`,
 * which tells client commands where the running daemon listens.
 * Precedence: command line > environment > config file > defaults.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UsageError, isLoopbackHost, parseExpose, parseForward, parseHostPort, parsePort, parseRestListen, type HostPort, type StartFlags } from './args.js';

/** The default REST listen address of `mcc start`. */
export const DEFAULT_REST = '127.0.0.1:7700';

/** Everything `mcc start` needs, checked. */
export interface StartOptions {
  configDir: string;
  host: string | undefined;
  port: number;
  bootstrap: string[];
  /** The identity file (default `<configDir>/identity.json`). */
  identity: string;
  /** Where the REST adapter listens, or null when disabled. */
  rest: HostPort | null;
  token: string | undefined;
  expose: Array<{ name: string } & HostPort>;
  forward: Array<{ name: string } & HostPort>;
  /** Consortium mode: the member credential file (`mcc org issue`), or undefined for the public mesh. */
  credential: string | undefined;
  /** Organisation IDs trusted besides the credential's own. */
  trust: string[];
}

type Env = Record<string, string | undefined>;

/**
 * The config directory: `--config-dir`, else `MCC_CONFIG_DIR`, else `$XDG_CONFIG_HOME/mcc`
 * or `~/.config/mcc` (on macOS `~/Library/Application Support/mcc`, on Windows `%APPDATA%\mcc`).
 */
export function configDir(flag: string | undefined, env: Env = process.env, platform: string = process.platform): string {
  if (flag) return resolve(flag);
  if (env.MCC_CONFIG_DIR) return resolve(env.MCC_CONFIG_DIR);
  if (platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'mcc');
  if (platform === 'darwin' && !env.XDG_CONFIG_HOME) return join(homedir(), 'Library', 'Application Support', 'mcc');
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'mcc');
  return join(homedir(), '.config', 'mcc');
}

/** Creates the config directory with mode 0700 (tightening an existing one we own). */
export function ensureConfigDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    chmodSync(dir, 0o700);
  } catch {
    // not ours to change (e.g. a shared directory given explicitly): leave it
  }
}

/** The keys a config file may hold: the long options of `mcc start`. */
interface ConfigFile {
  host?: string;
  port?: number | string;
  bootstrap?: string[] | string;
  identity?: string;
  rest?: string | false;
  token?: string;
  expose?: string[] | string;
  forward?: string[] | string;
  credential?: string;
  trust?: string[] | string;
}

const CONFIG_KEYS: Record<keyof ConfigFile, 'string' | 'port' | 'list' | 'rest'> = {
  host: 'string',
  port: 'port',
  bootstrap: 'list',
  identity: 'string',
  rest: 'rest',
  token: 'string',
  expose: 'list',
  forward: 'list',
  credential: 'string',
  trust: 'list',
};

/** Reads and checks a config file. `required` false: a missing file is an empty config. */
export function readConfigFile(path: string, required: boolean): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`config file ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`config file ${path}: not valid JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`config file ${path}: expected a JSON object`);
  const config = parsed as Record<string, unknown>;
  for (const [key, value] of Object.entries(config)) {
    const kind = CONFIG_KEYS[key as keyof ConfigFile];
    const where = `config file ${path}: "${key}"`;
    if (kind === undefined) throw new UsageError(`config file ${path}: unknown key "${key}" (known: ${Object.keys(CONFIG_KEYS).join(', ')})`);
    const ok =
      kind === 'string'
        ? typeof value === 'string'
        : kind === 'port'
          ? typeof value === 'number' || typeof value === 'string'
          : kind === 'rest'
            ? typeof value === 'string' || value === false
            : typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string'));
    if (!ok)
      throw new UsageError(`${where} has the wrong type (expected ${kind === 'list' ? 'an array of strings' : kind === 'port' ? 'a number' : 'a string'})`);
  }
  return config;
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** One setting's value and where it came from (the label error messages use). */
interface Sourced<T> {
  value: T;
  label: string;
}

/**
 * Merges flags, environment and config file into checked {@link StartOptions}.
 * Repeatable options are replaced, not merged: `--expose` on the command line replaces
 * `MCC_EXPOSE` and the config file's `expose`.
 */
export function resolveStartOptions(flags: StartFlags, env: Env = process.env): StartOptions {
  const dir = configDir(flags.configDir, env);
  const configPath = flags.config ?? env.MCC_CONFIG;
  const file = configPath ? readConfigFile(resolve(configPath), true) : readConfigFile(join(dir, 'config.json'), false);
  const fileLabel = (key: string): string => `config file ${configPath ?? join(dir, 'config.json')}: "${key}"`;

  function pick<T>(
    flag: T | undefined,
    flagLabel: string,
    envName: string,
    fromEnv: (text: string) => T,
    fileValue: T | undefined,
    key: string,
  ): Sourced<T> | undefined {
    if (flag !== undefined) return { value: flag, label: flagLabel };
    const envText = env[envName];
    if (envText !== undefined && envText !== '') return { value: fromEnv(envText), label: envName };
    if (fileValue !== undefined) return { value: fileValue, label: fileLabel(key) };
    return undefined;
  }
  const asList = (value: string[] | string | undefined): string[] | undefined => (typeof value === 'string' ? splitList(value) : value);

  const host = pick(flags.host, '--host', 'MCC_HOST', (text) => text, file.host, 'host');
  const portText = pick(flags.port, '--port', 'MCC_PORT', (text) => text, file.port === undefined ? undefined : String(file.port), 'port');
  const bootstrap = pick(flags.bootstrap, '--bootstrap', 'MCC_BOOTSTRAP', splitList, asList(file.bootstrap), 'bootstrap');
  const identity = pick(flags.identity, '--identity', 'MCC_IDENTITY', (text) => text, file.identity, 'identity');
  const restText = flags.noRest
    ? { value: 'off', label: '--no-rest' }
    : pick(flags.rest, '--rest', 'MCC_REST', (text) => text, file.rest === false ? 'off' : file.rest, 'rest');
  const token = pick(flags.token, '--token', 'MCC_TOKEN', (text) => text, file.token, 'token');
  const expose = pick(flags.expose, '--expose', 'MCC_EXPOSE', splitList, asList(file.expose), 'expose');
  const forward = pick(flags.forward, '--forward', 'MCC_FORWARD', splitList, asList(file.forward), 'forward');
  const credential = pick(flags.credential, '--credential', 'MCC_CREDENTIAL', (text) => text, file.credential, 'credential');
  const trust = pick(flags.trust, '--trust', 'MCC_TRUST', splitList, asList(file.trust), 'trust');
  for (const id of trust?.value ?? [])
    if (!/^[0-9a-f]{128}$/i.test(id)) throw new UsageError(`${trust!.label}: "${id}" is not an organisation ID (128 hex characters)`);
  if (trust !== undefined && credential === undefined) throw new UsageError(`${trust.label} needs --credential (consortium mode)`);

  for (const address of bootstrap?.value ?? []) parseHostPort(address, bootstrap!.label);
  const rest = parseRestListen(restText?.value ?? DEFAULT_REST, restText?.label ?? '--rest');
  if (token !== undefined && token.value.length < 8) throw new UsageError(`${token.label}: the token must be at least 8 characters`);
  if (rest !== 'off' && !isLoopbackHost(rest.host) && token === undefined) {
    throw new UsageError(
      `${restText?.label ?? '--rest'}: refusing to serve the REST API on ${rest.host} without a token; anyone who can reach it could control this node. Pass --token (or MCC_TOKEN), or bind to 127.0.0.1`,
    );
  }
  const exposeList = (expose?.value ?? []).map((text) => parseExpose(text, expose!.label));
  const forwardList = (forward?.value ?? []).map((text) => parseForward(text, forward!.label));
  checkUnique(
    exposeList.map((entry) => entry.name),
    expose?.label ?? '--expose',
    'service',
  );
  checkUnique(
    forwardList.filter((entry) => entry.port !== 0).map((entry) => `${entry.host}:${entry.port}`),
    forward?.label ?? '--forward',
    'listen address',
  );
  return {
    configDir: dir,
    host: host?.value,
    port: portText ? parsePort(portText.value, portText.label) : 0,
    bootstrap: bootstrap?.value ?? [],
    identity: identity ? resolve(identity.value) : join(dir, 'identity.json'),
    rest: rest === 'off' ? null : rest,
    token: token?.value,
    expose: exposeList,
    forward: forwardList,
    credential: credential ? resolve(credential.value) : undefined,
    trust: trust?.value ?? [],
  };
}

function checkUnique(values: string[], label: string, what: string): void {
  const seen = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) throw new UsageError(`${label}: ${what} "${value}" given twice`);
    seen.add(value);
  }
}

// ---- daemon.json ----

/** What a running daemon writes to `<configDir>/daemon.json`. */
export interface DaemonFile {
  url: string;
  token: string | null;
  pid: number;
}

export function daemonFilePath(dir: string): string {
  return join(dir, 'daemon.json');
}

/** Writes daemon.json atomically with mode 0600. */
export function writeDaemonFile(dir: string, contents: DaemonFile): void {
  ensureConfigDir(dir);
  const path = daemonFilePath(dir);
  const temp = join(dir, `.daemon.json.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  writeFileSync(temp, `${JSON.stringify(contents, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}

/** Reads daemon.json; undefined when there is none. Throws a plain Error when it is unreadable or malformed. */
export function readDaemonFile(dir: string): DaemonFile | undefined {
  const path = daemonFilePath(dir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    const parsed = JSON.parse(text) as Partial<DaemonFile>;
    if (typeof parsed.url !== 'string' || typeof parsed.pid !== 'number') throw new Error('missing url or pid');
    return { url: parsed.url, token: typeof parsed.token === 'string' ? parsed.token : null, pid: parsed.pid };
  } catch (error) {
    throw new Error(`${path} is malformed (${(error as Error).message}); remove it`);
  }
}

/** Removes daemon.json if it is this process's (another daemon may have replaced it). Synchronous: safe in an 'exit' handler. */
export function removeDaemonFile(dir: string, pid = process.pid): void {
  try {
    const current = readDaemonFile(dir);
    if (current?.pid === pid) unlinkSync(daemonFilePath(dir));
  } catch {
    // nothing we can do at exit
  }
}

/** True when a process with `pid` exists (it may belong to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
