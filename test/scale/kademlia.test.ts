/** Larger Kademlia runs (npm run test:scale): 5,000 joined nodes, churn and loss at 2,000. */
import { describe, it } from 'node:test';
import { churnRun, everyNodeFindsEveryKey, lossRun } from '../kademlia/large-network.js';

const enabled = process.env.MCC_SCALE === '1';

describe('Kademlia at scale', { skip: !enabled && 'set MCC_SCALE=1 (npm run test:scale)' }, () => {
  it('5,000 nodes: every sampled node finds every key', { timeout: 900_000 }, async () => {
    await everyNodeFindsEveryKey(5000, 100, 30, 31);
  });

  it('2,000 nodes, 30% churn: >= 99.9% of 3,000 gets succeed', { timeout: 900_000 }, async () => {
    await churnRun(2000, 0.3, 3000, 32, 0.999);
  });

  it('2,000 nodes, 5% loss: >= 99.9% of 3,000 gets succeed', { timeout: 900_000 }, async () => {
    await lossRun(2000, 0.05, 3000, 33, 0.999);
  });
});
