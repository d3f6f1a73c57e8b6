/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The list rotated left by `by` places: round `r` starts with contender `r mod n`, so no one always goes first. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return [];
  const k = ((by % items.length) + items.length) % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/**
 * Two measures interleaved over `rounds` rounds, their order swapped from
 * round to round (`a, b`, then `b, a`, ...), so neither always runs first on
 * a warmer or busier machine: the `[round, measure]` pairs in running order.
 */
export function interleave<M>(a: M, b: M, rounds: number): [number, M][] {
  const plan: [number, M][] = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [a, b] : [b, a];
    for (const m of order) plan.push([round, m]);
  }
  return plan;
}
