/**
 * The sans-IO tunnel engine alone: two Connections exchanging datagrams in memory
 * (no sockets, no timers), to separate protocol + crypto cost from IO cost.
 *
 *   node --import tsx bench/tunnel-core.ts [--mb 64] [--null-aead] [--suite node|sodium|noble]
 *
 * `--null-aead` swaps the packet AEAD for a pass-through (plaintext, zero tag) after the
 * handshake, so the figure is the engine's own JavaScript cost per packet. Benchmark only.
 */

import { engineRun, nullAeadSuite } from './tunnel-breakdown.js';
import { benchSuite, suiteArgument } from './tunnel-suite.js';

const argMb = process.argv.indexOf('--mb');
const TOTAL = (argMb > 0 ? Number(process.argv[argMb + 1]) : 64) * 1024 * 1024;
const packetSuite = process.argv.includes('--null-aead') ? nullAeadSuite() : await benchSuite(suiteArgument());

engineRun(packetSuite, TOTAL / 4); // warm-up
const { ms, cpuMicros, dataPackets, ackPackets } = engineRun(packetSuite, TOTAL);
console.log('| engine (no IO) | MB/s | µs per data packet | data packets | ack packets | CPU ms/GB |');
console.log('|---|---|---|---|---|---|');
console.log(
  `| ${packetSuite.name} suite | ${(TOTAL / 1048576 / (ms / 1000)).toFixed(1)} | ${((ms * 1000) / dataPackets).toFixed(1)} | ${dataPackets} | ${ackPackets} | ${((cpuMicros / 1000) * (1073741824 / TOTAL)).toFixed(0)} |`,
);
