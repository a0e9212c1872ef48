/**
 * Live watch against polling, side by side on one simulated network (real MccNodes on the
 * in-memory network, virtual clock, 25 ms one-way latency): W watchers follow a service
 * while providers register and unregister at a steady pace. Three phases of equal length
 * and the same schedule of changes run one after the other on the same nodes:
 * no watcher (the baseline traffic: maintenance, the registrations themselves), live
 * watches (the default), and polling watches (`live: false`, the former default of 5 s).
 *
 * Figures: the delay from a `register()` / `unregister()` call to each watcher's event (and
 * from the moment that call resolved), and the datagrams the watches cost, per watcher per
 * minute: what the watcher nodes sent and received, less the same in the baseline phase
 * (their own DHT upkeep). Every watch message has a watcher at one end (its lookups, its
 * subscribes and their answers, the pushes to it and its acks), so this counts all of it.
 *
 * Then the live watch on real UDP over loopback (5 nodes, one watcher): the delay of each event
 * after the `register()` / `unregister()` call and after it resolved, in wall-clock ms.
 *
 * Run: node --import tsx bench/discovery-watch.ts (bench/discovery.ts runs it too).
 */
import { createTestnet, type Testnet } from '../src/testing/index.js';
import { MccNode } from '../src/index.js';
import type { Registration } from '../src/discovery/registration.js';
import { median, percentile, printTable } from './util.js';

const N = Number(process.env.MCC_BENCH_WATCH_N ?? 100);
const WATCHERS = 10;
const INITIAL_PROVIDERS = 5;
const CHANGES = 12;
const CHANGE_EVERY_MS = 20_000;
const ONE_WAY_MS = 25;
const RTT_MS = 2 * ONE_WAY_MS;
const POLL_MS = 5_000;

type Mode = 'baseline' | 'live' | 'poll';

interface PhaseResult {
  mode: Mode;
  /** Datagrams the watcher nodes sent and received in the measured window (every watch message has a watcher at one end). */
  datagrams: number;
  /** Delays from each change's call to each watcher's event, ms. */
  fromCall: number[];
  /** Delays from the moment each change's call resolved, ms (negative: the event came first). */
  fromResolve: number[];
  /** Events that never arrived in the window. */
  missed: number;
}

function sleep(testnet: Testnet, ms: number): Promise<void> {
  return new Promise((resolve) => testnet.clock.setTimeout(resolve, ms));
}

async function phase(testnet: Testnet, mode: Mode, service: string, watchers: MccNode[], providers: MccNode[]): Promise<PhaseResult> {
  const { clock } = testnet;
  const initial: Registration[] = [];
  for (const provider of providers.slice(0, INITIAL_PROVIDERS)) initial.push(await testnet.run(provider.register(service, { handler: (s) => s.end() })));
  // Each watcher's first arrival of each (type, provider) event.
  const seen = watchers.map(() => new Map<string, number>());
  const controller = new AbortController();
  const loops =
    mode === 'baseline'
      ? []
      : watchers.map(async (watcher, index) => {
          const options = mode === 'live' ? { signal: controller.signal } : { signal: controller.signal, live: false, intervalMs: POLL_MS };
          for await (const event of watcher.watch(service, options)) {
            const id = `${event.type}:${event.provider.id}`;
            if (!seen[index].has(id)) seen[index].set(id, clock.now());
          }
        });
  // Every watcher has reported the initial providers before the window opens.
  await testnet.until(() => mode === 'baseline' || seen.every((map) => map.size >= INITIAL_PROVIDERS), 60_000);
  const watcherTraffic = () => watchers.reduce((sum, node) => sum + node.stats().datagramsIn + node.stats().datagramsOut, 0);
  const trafficBefore = watcherTraffic();
  const windowStart = clock.now();
  const changes: Array<{ key: string; called: number; resolved: number }> = [];
  const extra = providers.slice(INITIAL_PROVIDERS);
  let pending: Registration | undefined;
  for (let i = 0; i < CHANGES; i++) {
    const at = windowStart + i * CHANGE_EVERY_MS;
    await testnet.run(sleep(testnet, at - clock.now()));
    const called = clock.now();
    if (i % 2 === 0) {
      const provider = extra[i / 2];
      pending = await testnet.run(provider.register(service, { handler: (s) => s.end() }));
      changes.push({ key: `added:${provider.idHex}`, called, resolved: clock.now() });
    } else {
      await testnet.run(pending!.unregister());
      changes.push({ key: `removed:${extra[(i - 1) / 2].idHex}`, called, resolved: clock.now() });
    }
  }
  await testnet.run(sleep(testnet, windowStart + CHANGES * CHANGE_EVERY_MS - clock.now()));
  const datagrams = watcherTraffic() - trafficBefore;
  controller.abort();
  await testnet.run(Promise.all(loops), 30_000);
  for (const registration of initial) await testnet.run(registration.unregister());
  const fromCall: number[] = [];
  const fromResolve: number[] = [];
  let missed = 0;
  if (mode !== 'baseline') {
    for (const change of changes) {
      for (const map of seen) {
        const at = map.get(change.key);
        if (at === undefined) missed++;
        else {
          fromCall.push(at - change.called);
          fromResolve.push(at - change.resolved);
        }
      }
    }
  }
  return { mode, datagrams, fromCall, fromResolve, missed };
}

/** Runs the three phases and prints the comparison. */
export async function benchWatch(): Promise<void> {
  const started = performance.now();
  const testnet = await createTestnet({ size: N, latency: ONE_WAY_MS, seed: 5 });
  const watchers = testnet.nodes.slice(0, WATCHERS);
  const results: PhaseResult[] = [];
  let offset = WATCHERS;
  for (const mode of ['baseline', 'live', 'poll'] as const) {
    const providers = testnet.nodes.slice(offset, offset + INITIAL_PROVIDERS + CHANGES / 2);
    offset += providers.length;
    results.push(await phase(testnet, mode, `watch-${mode}`, watchers, providers));
  }
  await testnet.stop();
  const baseline = results[0].datagrams;
  const minutes = (CHANGES * CHANGE_EVERY_MS) / 60_000;
  const rows = results
    .slice(1)
    .map((result) => [
      result.mode === 'live' ? 'live (push)' : `polling every ${POLL_MS / 1000} s`,
      median(result.fromCall).toFixed(0),
      percentile(result.fromCall, 90).toFixed(0),
      Math.max(...result.fromCall).toFixed(0),
      median(result.fromResolve).toFixed(0),
      (median(result.fromResolve) / RTT_MS).toFixed(2),
      ((result.datagrams - baseline) / WATCHERS / minutes).toFixed(1),
      String(result.missed),
    ]);
  console.log(
    `\nWatch: live vs polling, N = ${N} MccNodes on the simulated network (virtual clock), ${ONE_WAY_MS} ms one-way (RTT ${RTT_MS} ms), ` +
      `${WATCHERS} watchers, ${INITIAL_PROVIDERS} providers, ${CHANGES} changes (register / unregister alternating) ${CHANGE_EVERY_MS / 1000} s apart`,
  );
  printTable(['watch', 'call->event median ms', 'p90 ms', 'max ms', 'resolve->event median ms', 'in RTTs', 'datagrams/watcher/min', 'missed'], rows);
  console.log(`baseline window (no watch running): the ${WATCHERS} watcher nodes sent and received ${baseline} datagrams in ${minutes} min`);
  console.log(`wall time ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

const UDP_CYCLES = 20;

/** Live watch on real UDP (loopback): wall-clock delay of each pushed event. */
export async function benchWatchUdp(): Promise<void> {
  const seed = await MccNode.create({ host: '127.0.0.1', lan: false });
  await seed.start();
  const nodes = [seed];
  for (let i = 0; i < 4; i++) nodes.push(await MccNode.create({ host: '127.0.0.1', bootstrap: [seed.address], lan: false }));
  await Promise.all(nodes.slice(1).map((node) => node.start()));
  const [, watcher, provider] = nodes;
  const controller = new AbortController();
  const arrivals = new Map<string, number>();
  let wake: (() => void) | undefined;
  const loop = (async () => {
    for await (const event of watcher.watch('udp-bench', { signal: controller.signal })) {
      arrivals.set(`${event.type}:${arrivals.size}`, performance.now());
      wake?.();
    }
  })();
  const nextEvent = (count: number) =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no event within 10 s')), 10_000);
      const check = () => {
        if (arrivals.size < count) return;
        clearTimeout(timer);
        wake = undefined;
        resolve([...arrivals.values()][count - 1]);
      };
      wake = check;
      check();
    });
  // Live before the first change: the watch has subscribed once its first lookup answered.
  const liveBy = performance.now() + 10_000;
  while (!(watcher.discovery.liveWatchStats()[0]?.live && watcher.discovery.liveWatchStats()[0].lookups >= 1) && performance.now() < liveBy) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const afterCall: number[] = [];
  const afterResolve: number[] = [];
  for (let i = 0; i < UDP_CYCLES; i++) {
    for (const step of ['register', 'unregister'] as const) {
      const want = arrivals.size + 1; // the event may come before the call resolves
      const called = performance.now();
      if (step === 'register') await provider.register('udp-bench', { handler: (stream) => stream.end() });
      else await provider.unregister('udp-bench');
      const resolved = performance.now();
      const at = await nextEvent(want);
      afterCall.push(at - called);
      afterResolve.push(at - resolved);
    }
  }
  const lookups = watcher.discovery.liveWatchStats()[0].lookups;
  controller.abort();
  await loop;
  await Promise.all(nodes.map((node) => node.stop()));
  console.log(`\nWatch over real UDP on 127.0.0.1 (5 nodes, 1 watcher), ${UDP_CYCLES} register + ${UDP_CYCLES} unregister, wall clock:`);
  printTable(
    ['events', 'call->event median ms', 'p90 ms', 'resolve->event median ms', 'p90 ms', 'max ms', 'lookups by the watch'],
    [
      [
        String(afterCall.length),
        median(afterCall).toFixed(1),
        percentile(afterCall, 90).toFixed(1),
        median(afterResolve).toFixed(1),
        percentile(afterResolve, 90).toFixed(1),
        Math.max(...afterResolve).toFixed(1),
        String(lookups),
      ],
    ],
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchWatch();
  await benchWatchUdp();
}
