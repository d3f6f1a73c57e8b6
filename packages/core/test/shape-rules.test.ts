import { describe, expect, it } from 'vitest';
import { averagePooling2d, conv1d, conv2d, conv2dTranspose, convAxisPadding, deconvAxisPadding, input, maxPooling2d, upSampling2d } from '../src/index.js';

describe('Keras padding and output-length rules', () => {
  it('same with stride 2 on an odd size gives ceil(in/2) and puts the larger pad after', () => {
    expect(convAxisPadding(7, 3, 2, 1, 'same')).toEqual({ before: 1, after: 1, out: 4 });
    expect(convAxisPadding(8, 3, 2, 1, 'same')).toEqual({ before: 0, after: 1, out: 4 });
    expect(conv2d({ filters: 1, kernelSize: 3, strides: 2, padding: 'same' }).computeOutputShape([7, 9, 1])).toEqual([4, 5, 1]);
  });

  it('same with an even kernel pads less before than after', () => {
    expect(convAxisPadding(5, 2, 1, 1, 'same')).toEqual({ before: 0, after: 1, out: 5 });
    expect(convAxisPadding(5, 4, 1, 1, 'same')).toEqual({ before: 1, after: 2, out: 5 });
  });

  it('dilation widens the kernel to (k − 1)·d + 1', () => {
    expect(conv2d({ filters: 1, kernelSize: 3, dilationRate: 2 }).computeOutputShape([7, 7, 1])).toEqual([3, 3, 1]);
    expect(convAxisPadding(7, 3, 1, 2, 'same')).toEqual({ before: 2, after: 2, out: 7 });
    expect(conv1d({ filters: 1, kernelSize: 3, dilationRate: 3 }).computeOutputShape([10, 1])).toEqual([4, 1]);
  });

  it('conv1d of 5 steps with a 3-tap filter gives 3 outputs valid and 5 same', () => {
    expect(conv1d({ filters: 1, kernelSize: 3 }).computeOutputShape([5, 1])).toEqual([3, 1]);
    expect(conv1d({ filters: 1, kernelSize: 3, padding: 'same' }).computeOutputShape([5, 1])).toEqual([5, 1]);
  });

  it('pooling same turns 7×7 into 4×4; valid into 3×3; strides default to the pool size', () => {
    expect(maxPooling2d({ padding: 'same' }).computeOutputShape([7, 7, 8])).toEqual([4, 4, 8]);
    expect(maxPooling2d().computeOutputShape([7, 7, 8])).toEqual([3, 3, 8]);
    expect(averagePooling2d({ poolSize: 3, strides: 2 }).computeOutputShape([7, 7, 1])).toEqual([3, 3, 1]);
    expect(maxPooling2d({ poolSize: 3 }).config.strides).toEqual([3, 3]);
  });

  it('conv2dTranspose valid gives in·s + max(k − s, 0); same gives in·s', () => {
    expect(conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2 }).computeOutputShape([4, 5, 1])).toEqual([9, 11, 2]);
    expect(conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' }).computeOutputShape([4, 5, 1])).toEqual([8, 10, 2]);
    expect(conv2dTranspose({ filters: 1, kernelSize: 1, strides: 2 }).computeOutputShape([3, 3, 1])).toEqual([6, 6, 1]);
    expect(conv2dTranspose({ filters: 1, kernelSize: 3, strides: 1 }).computeOutputShape([3, 3, 1])).toEqual([5, 5, 1]);
  });

  it('conv2dTranspose padding crops the smaller half first and extends when k < s', () => {
    expect(deconvAxisPadding(4, 3, 2, 'same')).toEqual({ before: 0, after: 1, out: 8 });
    expect(deconvAxisPadding(4, 4, 2, 'same')).toEqual({ before: 1, after: 1, out: 8 });
    expect(deconvAxisPadding(3, 1, 2, 'valid')).toEqual({ before: 0, after: -1, out: 6 });
  });

  it('upSampling2d repeats rows and columns by its size', () => {
    expect(upSampling2d({ size: [2, 3] }).computeOutputShape([4, 5, 2])).toEqual([8, 15, 2]);
    expect(upSampling2d().apply(input({ shape: [7, 7, 1] })).shape).toEqual([14, 14, 1]);
  });
});
