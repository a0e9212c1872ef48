/**
 * Seeded pseudo-random numbers for the simulated network. Determinism matters
 * more than quality here: the same seed must replay the same run, so nothing in
 * the simulator may use `Math.random`.
 */

/** A source of uniform floats in [0, 1). */
export type RandomSource = () => number;

import { mulberry32 } from '../../util/random.js';

export { mulberry32 };

/** Derives an independent stream from `seed` (so separate concerns do not perturb each other's draws). */
export function deriveRandom(seed: number, stream: number): RandomSource {
  const mix = mulberry32((seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0);
  return mulberry32(Math.floor(mix() * 4294967296));
}
