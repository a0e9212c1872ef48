/** Deterministic pseudo-random numbers for simulations and benchmarks (never for keys or nonces). */

/** A source of floats in [0, 1). */
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
