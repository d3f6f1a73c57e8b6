import { describe, expect, it } from 'vitest';
import { gather, ones, reshape, ShapeError, slice, squeeze, tensor, zeros } from '../src/index.js';

describe('tensor helpers', () => {
  it('zeros and ones fill the shape', () => {
    expect(zeros([2, 3]).data).toEqual(new Float32Array(6));
    expect(Array.from(ones([2]).data)).toEqual([1, 1]);
  });

  it('squeeze drops a size-1 axis and refuses others', () => {
    expect(squeeze(zeros([64, 4, 1]), -1).shape).toEqual([64, 4]);
    expect(squeeze(zeros([64, 1]), 1).shape).toEqual([64]);
    expect(() => squeeze(zeros([64, 4]), 1)).toThrow('squeeze: axis 1 of [64, 4] has size 4, expected 1');
  });

  it('reshape infers one -1 axis', () => {
    expect(reshape(zeros([2, 3, 4]), [2, -1]).shape).toEqual([2, 12]);
    expect(() => reshape(zeros([2, 3]), [4, -1])).toThrow(ShapeError);
  });

  it('slice is a view over batch rows', () => {
    const t = tensor([0, 1, 2, 3, 4, 5], [3, 2]);
    const s = slice(t, 1, 2);
    expect(s.shape).toEqual([2, 2]);
    expect(Array.from(s.data)).toEqual([2, 3, 4, 5]);
    expect(() => slice(t, 2, 2)).toThrow('slice: rows [2, 4) are outside a batch of 3');
  });

  it('a shape too large for one Float32Array is a ShapeError before allocating', () => {
    expect(() => zeros([100_000, 100_000, 3])).toThrow('zeros: shape [100000, 100000, 3] holds 30000000000 values, more than one tensor can (4294967296)');
  });

  it('gather copies the chosen rows in order', () => {
    const t = tensor([0, 1, 2, 3, 4, 5], [3, 2]);
    expect(Array.from(gather(t, [2, 0]).data)).toEqual([4, 5, 0, 1]);
  });
});
