import { describe, expect, it } from 'vitest';
import { oneHot } from '../src/index.js';

describe('oneHot', () => {
  it('puts a single 1 in each row at the label column', () => {
    const t = oneHot(Uint8Array.of(5, 0, 9), 10);
    expect(t.shape).toEqual([3, 10]);
    const rows = [0, 1, 2].map((r) => Array.from(t.data.subarray(r * 10, r * 10 + 10)));
    expect(rows.map((r) => r.indexOf(1))).toEqual([5, 0, 9]);
    expect(rows.map((r) => r.reduce((a, b) => a + b, 0))).toEqual([1, 1, 1]);
  });

  it('rejects a label outside [0, numClasses)', () => {
    expect(() => oneHot([0, 3], 3)).toThrow(/label 1 is 3, expected an integer in \[0, 3\)/);
  });

  it('rejects a non-integer label', () => {
    expect(() => oneHot([0.5], 3)).toThrow(/label 0 is 0.5/);
  });

  it('rejects a numClasses that is not a positive integer', () => {
    expect(() => oneHot([0], 0)).toThrow(/numClasses must be a positive integer/);
  });
});
