import { test } from 'node:test';
import { consortiumChurn } from './churn.js';

test('60 simulated nodes, three organisations, churn: restricted lookups by members succeed as often as public ones', (t) => consortiumChurn(60, t));
