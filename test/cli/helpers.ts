/** Shared helpers of the `mcc` tests: the CLI as a child process, temp config dirs, free ports. */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const cli = fileURLToPath(new URL('../../src/cli/mcc.ts', import.meta.url));

type After = { after: (fn: () => unknown) => void };

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A fresh config directory, removed at the end of the test. */
export function tempDir(t: After, prefix = 'mcc-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The environment of a test process: no MCC_* from the caller's shell, the given config dir and extras. */
export function testEnv(configDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('MCC_') && !key.startsWith('XDG_')) env[key] = value;
  return { ...env, MCC_CONFIG_DIR: configDir, ...extra };
}

export interface Daemon {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** The REST URL it printed, when it printed one. */
  url: string | undefined;
}

/**
 * `mcc start ARGS` as a child process, once its output matches `ready` (default: the REST
 * line); killed at the end of the test if still running.
 */
export async function startMcc(t: After, args: string[], options: { env: NodeJS.ProcessEnv; ready?: RegExp; timeoutMs?: number }): Promise<Daemon> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'start', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: options.env });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  let done = false;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      done = true;
      resolve(code);
    }),
  );
  const ready = options.ready ?? /rest on \S+/;
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  while (!ready.test(output) && !done && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const url = /rest on (http:\/\/\S+)/.exec(output)?.[1];
  return { child, output: () => output, exited, url };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `mcc ARGS` to completion (at most 30 s). */
export function runMcc(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', cli, ...args], { env, encoding: 'utf8', timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Resolves with the exit code, or 'hung' after `ms`. */
export function exitWithin(daemon: Daemon, ms: number): Promise<number | null | 'hung'> {
  let timer: NodeJS.Timeout;
  return Promise.race([daemon.exited.finally(() => clearTimeout(timer)), new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), ms)))]);
}
