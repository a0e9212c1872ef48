/**
 * A shorter or smaller run of the scale test's simulated hour (test/scale/mesh-hour.ts), for
 * looking at where its time and memory go: `npx tsx bench/scale-hour.ts [nodes] [minutes] [progressEvery]`
 * (defaults 1000, 60, 10). Prints progress lines on stderr and the report as JSON. Not part of
 * `npm run bench` (minutes of CPU); `npm run test:scale` runs the full 10,000-node hour.
 */
import { meshHour } from '../test/scale/mesh-hour.js';

const [nodes = 1000, minutes = 60, progressEvery = 10] = process.argv.slice(2).map(Number);
const report = await meshHour({ nodes, minutes, progressEvery });
console.log(JSON.stringify(report, null, 2));
