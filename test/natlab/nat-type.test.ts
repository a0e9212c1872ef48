/**
 * NAT-type classification across real kernel NAT (../shared/natlab.sh): one lab with a
 * cone router in front of hostA and a symmetric one in front of hostB; two public
 * observers. Skipped, saying why, where the lab cannot run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LAB, labSkip, withLab } from './lab.js';

const skip = labSkip();

test('real NAT: cone maps consistently, symmetric randomly (two public observers)', { skip, timeout: 180_000 }, async () => {
  await withLab({ a: 'cone', b: 'sym' }, async (lab) => {
    const pub = lab.node('pub', 'test/natlab/observe-node.ts', ['serve', '4100']);
    const pub2 = lab.node('pub2', 'test/natlab/observe-node.ts', ['serve', '4100']);
    await Promise.all([pub.message('ready'), pub2.message('ready')]);
    const observers = [`${LAB.pub}:4100`, `${LAB.pub2}:4100`];
    const hostA = lab.node('hostA', 'test/natlab/observe-node.ts', ['observe', '4200', ...observers]);
    const hostB = lab.node('hostB', 'test/natlab/observe-node.ts', ['observe', '4200', ...observers]);
    type Report = { observations: Array<{ observed: { host: string; port: number } | null }>; state: { mapping: string; publicAddress?: { host: string } } };
    const [a, b] = await Promise.all([hostA.message<Report>('observations'), hostB.message<Report>('observations')]);
    assert.ok(
      a.observations.every((o) => o.observed?.host === LAB.natA),
      `hostA seen at router A: ${JSON.stringify(a.observations)}`,
    );
    assert.ok(
      b.observations.every((o) => o.observed?.host === LAB.natB),
      `hostB seen at router B: ${JSON.stringify(b.observations)}`,
    );
    assert.equal(a.state.mapping, 'consistent');
    assert.equal(b.state.mapping, 'random');
  });
});
