import { describe, it } from 'node:test';
import { churnRun, everyNodeFindsEveryKey, lossRun } from './large-network.js';

describe('1,000-node simulated network (virtual clock)', () => {
  it('every sampled node finds every key', async () => {
    await everyNodeFindsEveryKey(1000, 50, 20, 11);
  });

  it('30% of nodes leave and as many join during the run: >= 99.9% of gets succeed', async () => {
    await churnRun(1000, 0.3, 1000, 12, 0.999);
  });

  it('5% message loss: >= 99.9% of gets succeed', async () => {
    await lossRun(1000, 0.05, 1000, 13, 0.999);
  });
});
