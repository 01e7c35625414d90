/**
 * The statistics the tests and benchmarks report: percentiles by linear
 * interpolation between the two nearest ranks (R's type 7, numpy's default), so
 * the 50th percentile is the median and every figure is one rule.
 */

/**
 * The p-th percentile (0 to 100) of `values`: the value at position
 * p/100 × (n − 1) of the sorted values, interpolated between its neighbours.
 * NaN for no values; the input is not reordered.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is not between 0 and 100`);
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (p / 100) * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const fraction = position - below;
  // At a rank itself no neighbour is read (an infinite value there stays infinite, not NaN).
  if (fraction === 0) return sorted[below]!;
  return sorted[below]! + (sorted[above]! - sorted[below]!) * fraction;
}

/**
 * The middle value; for an even number of values, the mean of the two middle
 * ones (the 50th percentile above). NaN for no values.
 */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}
