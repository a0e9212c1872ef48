/**
 * Seeded pseudo-random numbers for the simulated network. Determinism matters
 * more than quality here: the same seed must replay the same run, so nothing in
 * the simulator may use `Math.random`.
 */

/** A source of uniform floats in [0, 1). */
export type RandomSource = () => number;

/**
 * mulberry32: a tiny, fast 32-bit generator (period 2^32), plenty for loss and
 * jitter draws and far cheaper than a cryptographic source.
 */
export function mulberry32(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derives an independent stream from `seed` (so separate concerns do not perturb each other's draws). */
export function deriveRandom(seed: number, stream: number): RandomSource {
  const mix = mulberry32((seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0);
  return mulberry32(Math.floor(mix() * 4294967296));
}
