/**
 * 1-byte echo round trip only: raw TCP and bare UDP (the floor of any dgram transport)
 * against the mcc tunnel, interleaved in one run.
 *
 *   node --import tsx bench/tunnel-echo.ts [--blocks 10] [--rounds 500] [--processes] [--mode await|callback|both] [--only tunnel] [--suite node|sodium|noble]
 *
 * Both ends of each transport run in this process (as the "mcc tunnel" row of
 * bench/tunnel.ts); `--processes` adds the tunnel with its server end in a child
 * process. Every transport is timed by the same callback loop on the same Duplex API
 * (bench/tunnel-endpoints.ts), after a warm-up, in alternating blocks; `--mode` picks the
 * loop (`await`, as bench/tunnel.ts, one promise per round; `callback`, transport only).
 * `--only tunnel` skips TCP and UDP (for CPU profiles). Prints the median
 * and p90 per transport, this process's CPU time per round trip (both ends when in-process:
 * steadier than wall time on a shared machine), and the tunnel/TCP ratio of the medians
 * plus its spread over blocks.
 */

import { median, percentile, printTable } from './util.js';
import { benchSuite, suiteArgument } from './tunnel-suite.js';
import { interleavedEcho, type EchoMode, openEcho, tcpEndpoint, tunnelEndpoint, tunnelRemoteEndpoint, udpEndpoint, type Endpoint } from './tunnel-endpoints.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const BLOCKS = arg('--blocks', 10);
const ROUNDS = arg('--rounds', 500);

const suiteName = suiteArgument();
const suite = await benchSuite(suiteName);
const makers: [string, () => Promise<Endpoint>][] = [
  ['raw TCP', tcpEndpoint],
  ['raw UDP (no crypto, no protocol)', udpEndpoint],
  [`mcc tunnel [${suite.name}]`, () => tunnelEndpoint(suite)],
];
if (process.argv.includes('--processes')) makers.push([`mcc tunnel [${suite.name}], 2 processes`, () => tunnelRemoteEndpoint(suite, suiteName)]);

const argMode = process.argv.indexOf('--mode');
const modeArg = argMode > 0 ? process.argv[argMode + 1] : 'both';
const modes: EchoMode[] = modeArg === 'both' ? ['await', 'callback'] : [modeArg as EchoMode];
if (process.argv.includes('--only')) makers.splice(0, 2);

const endpoints: Endpoint[] = [];
for (const [, make] of makers) endpoints.push(await make());
const streams = await Promise.all(endpoints.map(openEcho));
for (const mode of modes) {
  const { samples, cpuPerRound, sysPerRound } = await interleavedEcho(streams, { warm: 2000, blocks: BLOCKS, rounds: ROUNDS, mode });
  console.log(`loopback 1-byte echo, ${mode} loop, ${BLOCKS} interleaved blocks of ${ROUNDS} rounds per transport after 2000 warm-up rounds`);
  report(samples, cpuPerRound, sysPerRound);
}
for (const stream of streams) stream.end();
for (const endpoint of endpoints) await endpoint.close();

function report(samples: number[][], cpuPerRound: number[], sysPerRound: number[]): void {
  const tcp = samples[0];
  printTable(
    ['transport', 'median µs', 'p10 µs', 'p90 µs', 'CPU µs/round (of it kernel)', 'x TCP (medians)', 'x TCP per block: min / median / max'],
    makers.map(([name], i) => {
      const own = samples[i];
      const perBlock: number[] = [];
      for (let b = 0; b < BLOCKS; b++) perBlock.push(median(own.slice(b * ROUNDS, (b + 1) * ROUNDS)) / median(tcp.slice(b * ROUNDS, (b + 1) * ROUNDS)));
      return [
        name,
        median(own).toFixed(1),
        percentile(own, 10).toFixed(1),
        percentile(own, 90).toFixed(1),
        `${cpuPerRound[i].toFixed(1)} (${sysPerRound[i].toFixed(1)})`,
        (median(own) / median(tcp)).toFixed(2),
        i === 0 ? '' : `${Math.min(...perBlock).toFixed(2)} / ${median(perBlock).toFixed(2)} / ${Math.max(...perBlock).toFixed(2)}`,
      ];
    }),
  );
}
