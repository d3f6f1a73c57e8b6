import { describe, expect, it } from 'vitest';
import { interleave, median, rotate } from '../src/stats.js';

describe('median', () => {
  it('takes the middle value of an odd count', () => {
    expect(median([5, 1, 3])).toBe(3);
  });
  it('averages the two middle values of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it('refuses an empty list', () => {
    expect(() => median([])).toThrow(/empty/);
  });
});

describe('rotate', () => {
  it('starts round r with item r mod n', () => {
    expect(rotate(['a', 'b', 'c'], 4)).toEqual(['b', 'c', 'a']);
  });
});

describe('interleave', () => {
  it('runs both measures every round, swapping their order from round to round', () => {
    expect(interleave('epoch', 'validated', 3)).toEqual([
      [0, 'epoch'],
      [0, 'validated'],
      [1, 'validated'],
      [1, 'epoch'],
      [2, 'epoch'],
      [2, 'validated'],
    ]);
  });
});
