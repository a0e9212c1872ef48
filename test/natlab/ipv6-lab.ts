/**
 * A mixed-family LAN in network namespaces of its own, for test/natlab/ipv6.test.ts: one
 * bridge namespace and one namespace per host, each host on a veth into the bridge with an
 * IPv4 address, an IPv6 address, or both. IPv4-only hosts have IPv6 switched off in their
 * namespace; IPv6-only hosts have no IPv4 address but loopback. Every IPv6 host sits in its
 * own /48 of the documentation prefix 2001:db8::/32 (on-link as a whole), so the routing
 * table's /48 rule sees them as different networks, as they would be on the internet. No
 * traffic leaves the namespaces; teardown deletes them whatever happened.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { LabProcess, repoRoot, type LabHost } from './lab.js';

/** One host of the LAN. */
export interface V6LabHost {
  /** Short name (namespace suffix, at most 6 characters). */
  name: string;
  /** IPv4 address (a /24 on 10.97.0.0), if the host has IPv4. */
  v4?: string;
  /** IPv6 address (prefix /32 on 2001:db8::), if the host has IPv6. */
  v6?: string;
}

/** Why the lab cannot run here, or false; under CI as root a missing tool fails instead (a skipped lab proves nothing). */
export function v6LabSkip(): string | false {
  const reason = unavailable();
  if (reason === undefined) return false;
  if (process.env['CI'] === 'true' && process.getuid?.() === 0) throw new Error(`the IPv6 lab must run under CI as root, but ${reason}`);
  return reason;
}

function unavailable(): string | undefined {
  if (process.platform !== 'linux') return `the IPv6 lab needs Linux network namespaces (this is ${process.platform})`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'the IPv6 lab needs root (network namespaces need CAP_NET_ADMIN)';
  const ip = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (ip.error || ip.status !== 0) return '`ip netns` is not available (install iproute2)';
  if (!existsSync('/proc/sys/net/ipv6')) return 'the kernel has no IPv6';
  return undefined;
}

function run(args: string[]): void {
  const result = spawnSync(args[0], args.slice(1), { encoding: 'utf8', timeout: 20_000 });
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr}`);
}

/** A lab that is up: run node processes in its hosts. */
export class V6Lab {
  private readonly processes: LabProcess[] = [];
  constructor(readonly prefix: string) {}

  /** Namespace of `host`. */
  ns(host: string): string {
    return `${this.prefix}${host}`;
  }

  /** Runs `node --import tsx <script> ...args` inside `host`'s namespace. */
  node(host: string, script: string, args: string[] = []): LabProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns(host), process.execPath, '--import', 'tsx', resolve(repoRoot, script), ...args], {
      cwd: repoRoot,
      env: { ...process.env, MCC_LAN: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new LabProcess(host as LabHost, child);
    this.processes.push(proc);
    return proc;
  }

  /** Kills every process started here and waits (bounded) for them. */
  async stopAll(): Promise<void> {
    for (const proc of this.processes) proc.kill();
    await Promise.all(this.processes.map((p) => Promise.race([p.exited, new Promise((r) => setTimeout(r, 3000))])));
  }
}

/** Builds the LAN, runs `body`, and always tears it down. */
export async function withV6Lab<T>(hosts: V6LabHost[], body: (lab: V6Lab) => Promise<T>): Promise<T> {
  const lab = new V6Lab(`m6${process.pid % 100000}-`);
  const bridge = lab.ns('br');
  const made: string[] = [];
  try {
    run(['ip', 'netns', 'add', bridge]);
    made.push(bridge);
    run(['ip', '-n', bridge, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    run(['ip', '-n', bridge, 'link', 'set', 'br0', 'up']);
    hosts.forEach((host, index) => {
      const ns = lab.ns(host.name);
      run(['ip', 'netns', 'add', ns]);
      made.push(ns);
      const port = `p${index}`;
      run(['ip', '-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', port, 'netns', bridge]);
      run(['ip', '-n', bridge, 'link', 'set', port, 'master', 'br0', 'up']);
      run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      if (host.v6 === undefined) {
        run(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
        run(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
        run(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.lo.disable_ipv6=1']);
      }
      run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      if (host.v4 !== undefined) run(['ip', '-n', ns, 'addr', 'add', `${host.v4}/24`, 'dev', 'eth0']);
      // nodad: the address is usable at once instead of after duplicate address detection (~1-2 s).
      if (host.v6 !== undefined) run(['ip', '-n', ns, 'addr', 'add', `${host.v6}/32`, 'dev', 'eth0', 'nodad']);
    });
    return await body(lab);
  } finally {
    await lab.stopAll();
    for (const ns of made.reverse()) spawnSync('ip', ['netns', 'del', ns]);
  }
}
