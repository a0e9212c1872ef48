/**
 * Harness for the real-NAT lab (`../shared/natlab.sh`): checks the preconditions,
 * brings a lab up, runs node processes inside its namespaces, collects their JSON
 * output and always tears the lab down. Lab traffic never leaves the namespaces.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The lab script: `../shared/natlab.sh` relative to the repository (as in CI). */
export const natlabScript = resolve(repoRoot, '../shared/natlab.sh');
/** Router modes natlab.sh accepts. */
export type LabMode = 'open' | 'cone' | 'plain' | 'full' | 'sym' | 'block-udp';
/** Lab namespaces by short name. */
export type LabHost = 'pub' | 'pub2' | 'hostA' | 'hostB';
/** Fixed lab addresses (natlab.sh header). */
export const LAB = { pub: '10.99.0.1', pub2: '10.99.0.4', natA: '10.99.0.2', natB: '10.99.0.3', hostA: '192.168.1.2', hostB: '192.168.2.2' } as const;

/** Why the lab cannot run here, or undefined when it can. */
/**
 * The `skip` option of a lab test: the reason the lab cannot run here, or false. Under CI
 * (`CI=true`) as root the lab must run, so there a missing tool fails the test instead of
 * skipping it: a lab test that passes by skipping proves nothing.
 */
export function labSkip(): string | false {
  const reason = labUnavailableReason();
  if (reason === undefined) return false;
  if (process.env['CI'] === 'true' && process.getuid?.() === 0) {
    throw new Error(`the NAT lab must run under CI as root, but ${reason}`);
  }
  return reason;
}

export function labUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return `the NAT lab needs Linux network namespaces (this is ${process.platform})`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'the NAT lab needs root (network namespaces and iptables need CAP_NET_ADMIN)';
  if (!existsSync(natlabScript)) return `the NAT lab script is missing at ${natlabScript}`;
  const ipNetns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (ipNetns.error || ipNetns.status !== 0) return '`ip netns` is not available (install iproute2)';
  const iptables = spawnSync('iptables', ['-V'], { encoding: 'utf8' });
  if (iptables.error || iptables.status !== 0) return '`iptables` is not installed (.ci/run installs it)';
  return undefined;
}

/** A node process running inside a lab namespace. */
export class LabProcess {
  readonly lines: string[] = [];
  stderr = '';
  private readonly waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;

  constructor(
    readonly host: LabHost,
    readonly child: ChildProcess,
    logFile?: string,
  ) {
    let buffer = '';
    const log = (stream: string, chunk: string): void => {
      if (logFile)
        appendFileSync(
          logFile,
          chunk
            .split('\n')
            .map((line, i, all) => (i === all.length - 1 && line === '' ? '' : `${Date.now()} ${stream} ${line}\n`))
            .join(''),
        );
    };
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      log('out', chunk);
      buffer += chunk;
      for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
        this.lines.push(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      log('err', chunk);
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.exited = new Promise((resolvePromise) =>
      child.on('exit', (code) => {
        for (const wake of this.waiters.splice(0)) wake();
        resolvePromise(code);
      }),
    );
  }

  /** The first JSON line with field `key`, waiting up to `timeoutMs`. */
  async message<T = Record<string, unknown>>(key: string, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const line of this.lines) {
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          if (parsed && key in parsed) return parsed as T;
        } catch {
          // not JSON: a log line
        }
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.child.exitCode !== null) {
        throw new Error(`${this.host}: no "${key}" message (exit ${this.child.exitCode}); stdout: ${this.lines.join(' | ')}; stderr: ${this.stderr}`);
      }
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(timer);
          wake();
        });
      });
    }
  }

  /** The newest JSON line with field `key` so far, or undefined. */
  latest<T = Record<string, unknown>>(key: string): T | undefined {
    for (let i = this.lines.length - 1; i >= 0; i--) {
      try {
        const parsed = JSON.parse(this.lines[i]) as Record<string, unknown>;
        if (parsed && key in parsed) return parsed as T;
      } catch {
        // not JSON: a log line
      }
    }
    return undefined;
  }

  /** Ends the process. */
  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}

/** A lab that is up. */
export class Lab {
  private readonly processes: LabProcess[] = [];
  constructor(readonly prefix: string) {}

  /** Runs `node --import tsx <script> ...args` inside `host`'s namespace, from the repository root. */
  node(host: LabHost, script: string, args: string[] = []): LabProcess {
    const child = spawn('bash', [natlabScript, 'exec', host, '--', process.execPath, '--import', 'tsx', resolve(repoRoot, script), ...args], {
      cwd: repoRoot,
      env: { ...process.env, NATLAB_PREFIX: this.prefix, NATLAB_QUIET: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // NATLAB_LOG_DIR=<dir>: every process's whole stdout/stderr, time-stamped, in <dir>/<pid>-<host>-<role>.log.
    const logDir = process.env['NATLAB_LOG_DIR'];
    let logFile: string | undefined;
    if (logDir) {
      mkdirSync(logDir, { recursive: true });
      logFile = resolve(logDir, `${process.pid}-${host}-${args.slice(0, 2).join('-')}.log`);
    }
    const proc = new LabProcess(host, child, logFile);
    this.processes.push(proc);
    return proc;
  }

  /** Kills every process started here and waits for them. */
  async stopAll(): Promise<void> {
    for (const proc of this.processes) proc.kill();
    await Promise.all(this.processes.map((p) => Promise.race([p.exited, new Promise((r) => setTimeout(r, 3000))])));
  }
}

function natlab(prefix: string, args: string[], timeoutMs: number): void {
  const result = spawnSync('bash', [natlabScript, ...args], {
    env: { ...process.env, NATLAB_PREFIX: prefix, NATLAB_QUIET: '1' },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  if (result.status !== 0) throw new Error(`natlab.sh ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr.slice(-2000)}`);
}

/**
 * Brings up a lab with routers A and B in the given modes, runs `body`, and tears the
 * lab down (processes and namespaces) whatever happens. The namespace prefix is
 * unique to this process so parallel test files do not collide.
 */
export async function withLab<T>(modes: { a: LabMode; b: LabMode; udpTimeoutSec?: number }, body: (lab: Lab) => Promise<T>): Promise<T> {
  const prefix = `mn${process.pid % 100000}-`;
  const up = ['up', '--a', modes.a, '--b', modes.b];
  if (modes.udpTimeoutSec !== undefined) up.push('--udp-timeout', String(modes.udpTimeoutSec));
  const lab = new Lab(prefix);
  try {
    natlab(prefix, up, 120_000);
    return await body(lab);
  } finally {
    await lab.stopAll();
    try {
      natlab(prefix, ['down'], 60_000);
    } catch {
      // best effort: a failed teardown must not hide the test's own outcome
    }
  }
}
