import { describe, it } from 'node:test';
import { everyNodeFindsEveryKey, lossRun } from './large-network.js';

describe('1,000-node simulated network (virtual clock)', () => {
  it('every sampled node finds every key', async () => {
    await everyNodeFindsEveryKey(1000, 50, 20, 11);
  });

  it('5% message loss: >= 99.9% of gets succeed', async () => {
    await lossRun(1000, 0.05, 1000, 13, 0.999);
  });
});
