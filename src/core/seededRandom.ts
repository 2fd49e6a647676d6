/**
 * mulberry32: a tiny, fast, seedable generator of uniform numbers in [0, 1). Reproducible from a
 * 32-bit seed, which is what sampling with a `seed`, synthetic benchmark data and generated test
 * models need; not for anything secret.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
