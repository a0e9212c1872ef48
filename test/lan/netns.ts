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

/** What {@link linkNamespaces} puts on the link. */
export interface LinkOptions {
  /** 10.77.0.1/24 and .2/24, with the IPv4 multicast route. Default true. */
  ipv4?: boolean;
  /** The ULA prefix fd77::/64 (`a` is fd77::1, `b` is fd77::2) beside the link-local addresses. Default false. */
  ula?: boolean;
}

/**
 * Joins two namespaces by a veth pair, a two-host LAN: IPv4 on 10.77.0.0/24 (`a` is .1, `b`
 * is .2) unless `ipv4: false`, and IPv6 link-local addresses (plus fd77::/64 with `ula`),
 * usable at once: duplicate address detection is off in both namespaces, and this waits
 * until no address is tentative. Their loopbacks keep whatever the namespaces set. Returns
 * the names of the two ends (in `a`, in `b`).
 */
export function linkNamespaces(a: Netns, b: Netns, options: LinkOptions = {}): [string, string] {
  const suffix = randomBytes(3).toString('hex');
  const [left, right] = [`mcca${suffix}`, `mccb${suffix}`];
  for (const ns of [a, b]) {
    // Without this a new address stays tentative (unbindable) for a second or two.
    for (const scope of ['all', 'default']) spawnSync('ip', ['netns', 'exec', ns.name, 'sysctl', '-qw', `net.ipv6.conf.${scope}.accept_dad=0`]);
  }
  ip(['link', 'add', left, 'netns', a.name, 'type', 'veth', 'peer', 'name', right, 'netns', b.name]);
  for (const [ns, dev, host] of [
    [a, left, 1],
    [b, right, 2],
  ] as const) {
    if (options.ipv4 !== false) ip(['-n', ns.name, 'addr', 'add', `10.77.0.${host}/24`, 'dev', dev]);
    if (options.ula === true) ip(['-n', ns.name, 'addr', 'add', `fd77::${host}/64`, 'dev', dev, 'nodad']);
    ip(['-n', ns.name, 'link', 'set', dev, 'up']);
    if (options.ipv4 !== false) ip(['-n', ns.name, 'route', 'add', '224.0.0.0/4', 'dev', dev]);
  }
  for (const [ns, dev] of [
    [a, left],
    [b, right],
  ] as const) {
    const deadline = Date.now() + 5000;
    const ready = (): boolean => {
      const out = spawnSync('ip', ['-n', ns.name, '-6', 'addr', 'show', 'dev', dev], { encoding: 'utf8' }).stdout;
      return out.includes('inet6 fe80::') && !out.includes('tentative');
    };
    while (!ready()) {
      if (Date.now() > deadline) throw new Error(`no usable IPv6 link-local address on ${dev} after 5 s`);
      spawnSync('sleep', ['0.05']);
    }
  }
  return [left, right];
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
