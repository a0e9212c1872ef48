/**
 * LAN discovery (issue 20): how long two nodes created with no options at all take to find
 * each other's service, against the same pair given a bootstrap address (LAN off), side by
 * side in one run. Runs inside a network namespace of its own (loopback with multicast on),
 * so nothing is multicast on the machine's interfaces; skipped (exit 0) without root.
 *
 * Per trial: a starts and registers "svc-a"; the clock starts as b.start() is called; it
 * stops when b's lookup of "svc-a" returns a's record (polled every 5 ms) — the join, the
 * proof ping and the lookup included.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { MccNode } from '../src/index.js';

const TRIALS = 15;

async function trial(lan: boolean): Promise<{ ms: number; lanSent: number; datagramsOut: number }> {
  const a = await MccNode.create(lan ? {} : { lan: false, host: '127.0.0.1' });
  await a.start();
  await a.register('svc-a', { handler: (stream) => stream.end() });
  const b = await MccNode.create(lan ? {} : { lan: false, host: '127.0.0.1', bootstrap: [`127.0.0.1:${a.address.port}`] });
  const started = performance.now();
  await b.start();
  while ((await b.lookup('svc-a', { fresh: true })).length === 0) {
    if (performance.now() - started > 10_000) throw new Error('not found in 10 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const ms = performance.now() - started;
  const result = { ms, lanSent: a.stats().lan.sent + b.stats().lan.sent, datagramsOut: a.stats().datagramsOut + b.stats().datagramsOut };
  await Promise.all([a.stop(), b.stop()]);
  return result;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
};

if (process.argv[2] === 'inner') {
  const lan: number[] = [];
  const boot: number[] = [];
  let lanSent = 0;
  for (let i = 0; i < TRIALS; i++) {
    // Alternate, so that load from other processes falls on both alike.
    const withLan = await trial(true);
    lan.push(withLan.ms);
    lanSent += withLan.lanSent;
    boot.push((await trial(false)).ms);
  }
  console.log(JSON.stringify({ lan, boot, lanSentPerTrial: lanSent / TRIALS }));
} else if (process.platform !== 'linux' || process.getuid?.() !== 0) {
  console.log('bench/lan: skipped (needs root for a network namespace of its own; it never multicasts on the host)');
} else {
  const ns = `mcc-lan-bench-${randomBytes(3).toString('hex')}`;
  const ip = (...args: string[]): void => {
    const run = spawnSync('ip', args, { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`ip ${args.join(' ')}: ${run.stderr}`);
  };
  ip('netns', 'add', ns);
  try {
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'multicast', 'on');
    ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'lo');
    const run = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), 'inner'], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`bench/lan inner run failed: ${run.stderr}`);
    const { lan, boot, lanSentPerTrial } = JSON.parse(run.stdout.trim().split('\n').pop()!) as { lan: number[]; boot: number[]; lanSentPerTrial: number };
    const fmt = (values: number[]): string =>
      `median ${median(values).toFixed(1)} ms (min ${Math.min(...values).toFixed(1)}, max ${Math.max(...values).toFixed(1)})`;
    console.log(`bench/lan: ${TRIALS} trials each, alternating, in one network namespace`);
    console.log(`  no options (LAN discovery): b.start() -> b finds a's service: ${fmt(lan)}; ${lanSentPerTrial.toFixed(1)} announcements per pair`);
    console.log(`  bootstrap address, LAN off: b.start() -> b finds a's service: ${fmt(boot)}`);
    console.log(`  ratio of medians LAN / bootstrap: ${(median(lan) / median(boot)).toFixed(2)}`);
  } finally {
    spawnSync('ip', ['netns', 'delete', ns]);
  }
}
