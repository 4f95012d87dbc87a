/** A seeded pseudo-random source: the same seed gives the same sequence on every machine. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** One element of `items`. */
  pick<T>(items: readonly T[]): T;
  /** A count with the given mean, varying from 0 to about twice the mean. */
  count(mean: number): number;
}

/** mulberry32: 32 bits of state, fast, good enough for synthetic data (not for secrets). */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    // floor(x + U) with U uniform in [0, 1) has mean x (stochastic rounding), and
    // x = 2·mean·U' has mean `mean`: counts spread evenly over 0 … 2·mean.
    count: (mean) => Math.floor(2 * mean * next() + next()),
  };
}
