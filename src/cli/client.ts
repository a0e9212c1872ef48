/**
 * The client commands (`mcc status`, `id`, `lookup`, `expose`, `unexpose`, `forward`,
 * `unforward`, `peers`): calls to a running daemon's REST API, printed as short aligned
 * tables or, with `--json`, as the API's JSON.
 */
import type { ForwardBody, ForwardJson, NodeInfo, PeerJson, Problem, ProviderJson, ProvidersPage, RegisterBody, ServiceJson } from '../rest/types.js';
import { UsageError, checkServiceName, parseHostPort, parsePort, type ClientCommandName, type ClientFlags } from './args.js';
import { configDir, daemonFilePath, processAlive, readDaemonFile } from './config.js';

/** A runtime failure of a client command: printed as `mcc COMMAND: message`, exit 1. */
export class ClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientError';
  }
}

/** Where the daemon is and how to authenticate, and how we learned it (for messages). */
export interface DaemonTarget {
  url: string;
  token: string | undefined;
  /** `--rest`, `MCC_REST` or the daemon.json path. */
  source: string;
  pid?: number;
}

type Env = Record<string, string | undefined>;

/** `http://host:port` from a URL or a bare `host:port` (wildcard hosts mean this machine). */
function normaliseUrl(text: string, label: string): string {
  const trimmed = text.trim().replace(/\/+$/, '');
  if (/^https?:\/\//i.test(trimmed)) {
    try {
      return new URL(trimmed).toString().replace(/\/+$/, '');
    } catch {
      throw new UsageError(`${label}: "${text}" is not a URL`);
    }
  }
  const address = parseHostPort(trimmed, label);
  const host = address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '::1' : address.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/** Finds the daemon: `--rest`, else `MCC_REST`, else `<configDir>/daemon.json`. */
export function findDaemon(flags: ClientFlags, env: Env = process.env): DaemonTarget {
  const dir = configDir(flags.configDir, env);
  const explicitToken = flags.token ?? (env.MCC_TOKEN || undefined);
  const restText = flags.rest ?? (env.MCC_REST || undefined);
  let file;
  try {
    file = readDaemonFile(dir);
  } catch (error) {
    if (restText === undefined) throw new ClientError((error as Error).message);
  }
  if (restText !== undefined) {
    const label = flags.rest !== undefined ? '--rest' : 'MCC_REST';
    const url = normaliseUrl(restText, label);
    const token = explicitToken ?? (file && normaliseUrl(file.url, 'daemon.json url') === url ? (file.token ?? undefined) : undefined);
    return { url, token, source: label };
  }
  if (!file) {
    throw new ClientError(`the daemon is not running (no ${daemonFilePath(dir)}); start it with "mcc start", or point --rest / MCC_REST at its REST API`);
  }
  return { url: normaliseUrl(file.url, daemonFilePath(dir)), token: explicitToken ?? file.token ?? undefined, source: daemonFilePath(dir), pid: file.pid };
}

/** One REST call: the parsed JSON answer (undefined for 204). Throws ClientError with a message for people. */
export async function call<T>(target: DaemonTarget, method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (target.token !== undefined) headers.authorization = `Bearer ${target.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${target.url}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new ClientError(unreachable(target, error));
  }
  const text = await response.text().catch(() => '');
  if (response.ok) {
    if (response.status === 204 || text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ClientError(`${method} ${path} answered HTTP ${response.status} with something that is not JSON`);
    }
  }
  throw new ClientError(problemMessage(response, text, target));
}

function unreachable(target: DaemonTarget, error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as { name?: string }).name;
  if (cause === 'TimeoutError') return `the daemon at ${target.url} did not answer in time`;
  const stale =
    target.pid !== undefined
      ? processAlive(target.pid)
        ? ` (${target.source} names pid ${target.pid})`
        : ` (${target.source} is stale: pid ${target.pid} is gone)`
      : '';
  return `the daemon is not running: nothing answers at ${target.url}${stale}; start it with "mcc start"`;
}

function problemMessage(response: Response, text: string, target: DaemonTarget): string {
  let problem: Partial<Problem> | undefined;
  try {
    problem = JSON.parse(text) as Partial<Problem>;
  } catch {
    problem = undefined;
  }
  const detail = problem?.detail ?? problem?.title ?? `HTTP ${response.status} ${response.statusText}`.trim();
  if (response.status === 401) return `${detail}${target.token === undefined ? ' (pass --token or set MCC_TOKEN)' : ' (check --token / MCC_TOKEN)'}`;
  return detail;
}

// ---- output ----

/** Aligned columns, two spaces apart; the last column is not padded. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

const rtt = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '-' : `${Math.round(ms)} ms`);
const visibilityText = (visibility: ServiceJson['visibility']): string =>
  visibility === 'public' || visibility === 'org'
    ? visibility
    : [...(visibility.orgs ?? []).map((id) => `org ${id.slice(0, 16)}…`), ...(visibility.nodes ?? []).map((id) => `node ${id.slice(0, 16)}…`)].join(', ') ||
      'its own organisation';
const metadataText = (metadata: unknown): string => (metadata === null || metadata === undefined ? '-' : JSON.stringify(metadata));

// ---- commands ----

/** Runs one client command; resolves with the exit code. */
export async function runClient(command: ClientCommandName, args: string[], flags: ClientFlags): Promise<number> {
  // Usage problems first (exit 2 even when no daemon runs).
  const request = prepare(command, args, flags);
  const target = findDaemon(flags);
  await request(target);
  return 0;
}

type Runner = (target: DaemonTarget) => Promise<void>;

function prepare(command: ClientCommandName, args: string[], flags: ClientFlags): Runner {
  const json = flags.json;
  switch (command) {
    case 'status':
      return async (target) => {
        const info = await call<NodeInfo>(target, 'GET', '/v1/node');
        if (json) return printJson(info);
        const [services, forwards] = await Promise.all([
          call<{ services: ServiceJson[] }>(target, 'GET', '/v1/services'),
          call<{ forwards: ForwardJson[] }>(target, 'GET', '/v1/forwards'),
        ]);
        const nat = info.nat;
        print(
          table([
            ['id', info.id],
            ['address', info.address ?? '(not running)'],
            ['rest', `${target.url}${target.pid !== undefined ? ` (pid ${target.pid})` : ''}`],
            [
              'nat',
              `${nat.mapping}${nat.publicAddress ? `, public ${nat.publicAddress}` : ''}, reachable ${nat.reachable === null ? 'unknown' : nat.reachable ? 'yes' : 'no'}, dht ${nat.dht}${nat.relays.length ? `, relays ${nat.relays.map((relay) => relay.address).join(' ')}` : ''}`,
            ],
            ['peers', String(info.peers)],
            ['crypto', info.crypto],
            ['services', services.services.length === 0 ? '-' : services.services.map((s) => `${s.name} -> ${s.target ?? 'handler'} (${s.state})`).join(', ')],
            ['forwards', forwards.forwards.length === 0 ? '-' : forwards.forwards.map((f) => `${formatHostPort(f.host, f.port)} -> ${f.name}`).join(', ')],
          ]),
        );
      };
    case 'id':
      return async (target) => {
        const info = await call<NodeInfo>(target, 'GET', '/v1/node');
        if (json) return printJson(info);
        print(info.id);
      };
    case 'peers':
      return async (target) => {
        const answer = await call<{ peers: PeerJson[] }>(target, 'GET', '/v1/peers');
        if (json) return printJson(answer);
        if (answer.peers.length === 0) return print('no peers');
        print(table([['ID', 'ADDRESS', 'RTT'], ...answer.peers.map((peer) => [peer.id, peer.address, rtt(peer.rttMs)])]));
      };
    case 'lookup': {
      const name = checkServiceName(args[0], 'NAME');
      return async (target) => {
        const page = await lookupAll(target, name);
        if (json) return printJson(page);
        if (page.providers.length === 0) return print(`no providers of ${name}`);
        print(
          table([
            ['ID', 'ADDRESSES', 'RTT', 'METADATA'],
            ...page.providers.map((p: ProviderJson) => [
              p.id,
              p.addresses.join(' ') || (p.relays.length ? `via relay ${p.relays[0].address}` : '-'),
              rtt(p.rttMs),
              metadataText(p.metadata),
            ]),
          ]),
        );
      };
    }
    case 'expose': {
      const name = checkServiceName(args[0], 'NAME');
      const address = parseHostPort(args[1], 'HOST:PORT', { defaultHost: '127.0.0.1' });
      const body: RegisterBody = { name, host: address.host, port: address.port };
      if (flags.metadata !== undefined) body.metadata = parseMetadata(flags.metadata);
      if (flags.ttl !== undefined) body.ttl = parseTtl(flags.ttl);
      if (flags.visibility !== undefined) body.visibility = parseVisibility(flags.visibility);
      return async (target) => {
        const service = await call<ServiceJson>(target, 'POST', '/v1/services', body, 60_000);
        if (json) return printJson(service);
        print(
          `exposing ${service.name} -> ${service.target ?? formatHostPort(address.host, address.port)} (stored on ${service.stored} node${service.stored === 1 ? '' : 's'}${service.visibility === 'public' ? '' : `; visible to ${visibilityText(service.visibility)}`})`,
        );
      };
    }
    case 'unexpose': {
      const name = checkServiceName(args[0], 'NAME');
      return async (target) => {
        await call<void>(target, 'DELETE', `/v1/services/${encodeURIComponent(name)}`, undefined, 60_000);
        if (json) return printJson({ name, removed: true });
        print(`withdrew ${name}`);
      };
    }
    case 'forward': {
      const name = checkServiceName(args[0], 'NAME');
      const address = parseHostPort(args[1], 'PORT', { defaultHost: '127.0.0.1', minPort: 0 });
      const body: ForwardBody = { name, port: address.port, host: address.host };
      return async (target) => {
        const forward = await call<ForwardJson>(target, 'POST', '/v1/forwards', body);
        if (json) return printJson(forward);
        print(`forwarding ${formatHostPort(forward.host, forward.port)} -> ${forward.name}`);
      };
    }
    case 'unforward': {
      const port = parsePort(args[0], 'PORT', 1);
      return async (target) => {
        await call<void>(target, 'DELETE', `/v1/forwards/${port}`);
        if (json) return printJson({ port, removed: true });
        print(`stopped the forward on port ${port}`);
      };
    }
  }
}

/** Every provider, following `nextCursor` (bounded: at most 100 pages). */
async function lookupAll(target: DaemonTarget, name: string): Promise<ProvidersPage> {
  const providers: ProviderJson[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const query: string = cursor === null ? '' : `?cursor=${encodeURIComponent(cursor)}`;
    const page: ProvidersPage = await call<ProvidersPage>(target, 'GET', `/v1/services/${encodeURIComponent(name)}/providers${query}`, undefined, 60_000);
    providers.push(...page.providers);
    cursor = page.nextCursor;
    if (cursor === null) break;
  }
  return { name, providers, nextCursor: cursor };
}

function parseMetadata(text: string): RegisterBody['metadata'] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--metadata: not valid JSON (${(error as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError('--metadata: expected a JSON object, e.g. \'{"region":"eu"}\'');
  return value as RegisterBody['metadata'];
}

/** `--visibility`: `public`, `org` or a JSON object `{"orgs":[...],"nodes":[...]}` (the daemon checks the IDs). */
function parseVisibility(text: string): NonNullable<RegisterBody['visibility']> {
  const trimmed = text.trim();
  if (trimmed === 'public' || trimmed === 'org') return trimmed;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    value = undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`--visibility: expected public, org or a JSON object such as '{"orgs":["ORG-ID"],"nodes":["NODE-ID"]}'`);
  }
  return value;
}

function parseTtl(text: string): number {
  const ttl = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(ttl) || ttl < 10_000 || ttl > 86_400_000) throw new UsageError(`--ttl: "${text}" is not a lifetime in ms (10000 to 86400000)`);
  return ttl;
}

function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
