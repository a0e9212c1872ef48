/**
 * The scale run (`npm run test:scale`): 10,000 real nodes on the simulated network with
 * churn for one simulated hour (test/scale/mesh-hour.ts). MCC_SCALE_NODES and MCC_SCALE_MINUTES
 * shrink it for a quick look; MCC_SCALE_REPORT=<file> also writes the figures as JSON.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { meshHour } from './mesh-hour.js';

const enabled = process.env.MCC_SCALE === '1';
const NODES = Number(process.env.MCC_SCALE_NODES ?? 10_000);
const MINUTES = Number(process.env.MCC_SCALE_MINUTES ?? 60);

describe('mesh at scale', { skip: !enabled && 'set MCC_SCALE=1 (npm run test:scale)' }, () => {
  it(`${NODES} nodes, 0.5 % churn a minute, ${MINUTES} simulated minutes: lookups find live providers`, { timeout: 10_800_000 }, async (t) => {
    const report = await meshHour({
      nodes: NODES,
      minutes: MINUTES,
      log: (line) => {
        t.diagnostic(line);
        // node:test prints diagnostics only when the test ends: progress of an hour-long run goes to stderr as it happens.
        process.stderr.write(`${new Date().toISOString()} ${line}\n`);
      },
    });
    t.diagnostic(JSON.stringify(report));
    if (process.env.MCC_SCALE_REPORT) writeFileSync(process.env.MCC_SCALE_REPORT, `${JSON.stringify(report, null, 2)}\n`);
    assert.ok(report.lookups >= MINUTES * 40, `only ${report.lookups} lookups were scored`);
    const rate = report.lookupSuccess / report.lookups;
    assert.ok(rate >= 0.99, `lookup success ${rate} < 0.99`);
    assert.ok(report.liveProvidersFound / report.liveProviders >= 0.95, 'lookups missed live providers');
    assert.ok(report.roundTripsMedian <= 3, `median lookup took ${report.roundTripsMedian} round trips`);
  });
});
