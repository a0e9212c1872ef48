/** Issue 18's simulator test at full size (`npm run test:scale`): 200 nodes of three organisations with churn. */
import { test } from 'node:test';
import { consortiumChurn } from '../consortium/churn.js';

test(
  '200 simulated nodes, three organisations, churn: restricted lookups by members succeed as often as public ones',
  { skip: process.env.MCC_SCALE !== '1' && 'set MCC_SCALE=1 (npm run test:scale)', timeout: 1_800_000 },
  (t) => consortiumChurn(200, t),
);
