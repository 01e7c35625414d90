/** median and percentile: one interpolation rule, so the 50th percentile is the median. */
import { describe, expect, it } from 'vitest';
import { median, percentile } from '../src/stats.js';

describe('median', () => {
  it('is the middle value of an odd number of values, in any order', () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([7])).toBe(7);
  });

  it('is the mean of the two middle values of an even number', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([10, 20])).toBe(15);
  });

  it('is NaN for no values', () => {
    expect(median([])).toBeNaN();
  });

  it('leaves its input in its order', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('percentile', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 ... 1

  it('is the minimum at 0 and the maximum at 100', () => {
    expect(percentile(hundred, 0)).toBe(1);
    expect(percentile(hundred, 100)).toBe(100);
  });

  it('interpolates between the two nearest ranks', () => {
    expect(percentile(hundred, 99)).toBeCloseTo(99.01, 10);
    expect(percentile([1, 2, 3, 4, 5], 25)).toBe(2);
    expect(percentile([10, 20], 90)).toBe(19);
  });

  it('at 50 is the median, for odd and even counts', () => {
    for (const values of [[5, 1, 4], [8, 2, 6, 4], hundred])
      expect(percentile(values, 50)).toBe(median(values));
  });

  it('keeps an infinite value at a rank (no NaN from its neighbour)', () => {
    expect(percentile([1, Infinity], 100)).toBe(Infinity);
  });

  it('is NaN for no values, and refuses a p outside 0 to 100', () => {
    expect(percentile([], 99)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], -1)).toThrow(RangeError);
    expect(() => percentile([1], NaN)).toThrow(RangeError);
  });
});
