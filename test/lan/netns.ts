/**
 * A network namespace of a test's own, for LAN discovery tests: its loopback is up with
 * multicast on and a multicast route, so announcements travel between the processes inside
 * it and never reach the machine's real interfaces. Deleted in cleanup.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Why namespaces cannot be made here, or undefined. */
function unavailable(): string | undefined {
  if (process.platform !== 'linux') return `LAN tests need Linux network namespaces (this is ${process.platform})`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0)
    return 'LAN tests need root (ip netns needs CAP_NET_ADMIN); they never multicast on the host';
  const ip = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (ip.error || ip.status !== 0) return '`ip netns` is not available (install iproute2)';
  return undefined;
}

/** The `skip` option of a namespace test: a reason, or false. Under CI as root a missing tool fails instead. */
export function netnsSkip(): string | false {
  const reason = unavailable();
  if (reason === undefined) return false;
  if (process.env['CI'] === 'true' && process.getuid?.() === 0) throw new Error(`LAN tests must run under CI as root, but ${reason}`);
  return reason;
}

function ip(args: string[]): void {
  const run = spawnSync('ip', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${run.stderr.trim()}`);
}

/** A namespace with loopback up; `multicast: false` leaves loopback's multicast flag off (as on the host). */
export class Netns {
  readonly name = `mcc-lan-${randomBytes(4).toString('hex')}`;
  private readonly children: ChildProcess[] = [];

  constructor(options: { multicast?: boolean } = {}) {
    ip(['netns', 'add', this.name]);
    try {
      ip(['-n', this.name, 'link', 'set', 'lo', 'up']);
      if (options.multicast !== false) {
        ip(['-n', this.name, 'link', 'set', 'lo', 'multicast', 'on']);
        ip(['-n', this.name, 'route', 'add', '224.0.0.0/4', 'dev', 'lo']);
      }
    } catch (error) {
      this.delete();
      throw error;
    }
  }

  /** Runs `script` (TypeScript, through tsx) inside the namespace. */
  node(script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.name, process.execPath, '--import', 'tsx', resolve(repoRoot, script), ...args], {
      cwd: repoRoot,
      // MCC_LAN=off (npm test sets it for the host) must not reach the namespace: LAN discovery is what runs there.
      env: { ...process.env, NODE_TEST_CONTEXT: undefined, MCC_LAN: undefined, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.children.push(child);
    return child;
  }

  /** Kills what is still running and deletes the namespace. */
  delete(): void {
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    spawnSync('ip', ['netns', 'delete', this.name]);
  }
}

/**
 * Joins two namespaces by a veth pair, a two-host LAN on 10.77.0.0/24 (`a` is .1, `b` is .2),
 * with the multicast route on the link. Their loopbacks keep whatever the namespaces set.
 */
export function linkNamespaces(a: Netns, b: Netns): void {
  const suffix = randomBytes(3).toString('hex');
  const [left, right] = [`mcca${suffix}`, `mccb${suffix}`];
  ip(['link', 'add', left, 'netns', a.name, 'type', 'veth', 'peer', 'name', right, 'netns', b.name]);
  for (const [ns, dev, address] of [
    [a, left, '10.77.0.1/24'],
    [b, right, '10.77.0.2/24'],
  ] as const) {
    ip(['-n', ns.name, 'addr', 'add', address, 'dev', dev]);
    ip(['-n', ns.name, 'link', 'set', dev, 'up']);
    ip(['-n', ns.name, 'route', 'add', '224.0.0.0/4', 'dev', dev]);
  }
}

/** Resolves with the first stdout line of `child` that parses as JSON with `key`; rejects when it exits first. */
export function jsonLine<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    let buffer = '';
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => (stderr += chunk));
    child.stdout!.setEncoding('utf8');
    const onData = (chunk: string): void => {
      buffer += chunk;
      for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        try {
          const value = JSON.parse(line) as Record<string, unknown>;
          if (key in value) {
            child.stdout!.off('data', onData);
            resolvePromise(value as T);
            return;
          }
        } catch {
          // not a JSON line
        }
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}) before printing "${key}": ${stderr.slice(-2000)}`)));
  });
}

/** Resolves with the exit code of `child` (a clean exit after stop() shows no socket or timer was left open). */
export function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
