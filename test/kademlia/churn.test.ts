import { describe, it } from 'node:test';
import { churnRun } from './large-network.js';

describe('1,000-node simulated network under churn (virtual clock)', () => {
  it('30% of nodes leave and as many join during the run: >= 99.9% of gets succeed', async () => {
    await churnRun(1000, 0.3, 1000, 12, 0.999);
  });
});
