import { conv2dTranspose, dense, mnistAutoencoder, sequential } from '@araboza/core';
import { describe, expect, it } from 'vitest';
import { forwardMacsPerSample } from '../src/flops.js';

describe('forwardMacsPerSample', () => {
  it('counts 712,224 multiply-adds for the MNIST autoencoder (the PyTorch reference count)', () => {
    expect(forwardMacsPerSample(mnistAutoencoder({ seed: 0 }).graph)).toBe(712_224);
  });

  it('counts a dense layer on a rank-3 input as rows × in × out', () => {
    const m = sequential({ inputShape: [4, 2], layers: [dense({ units: 3, useBias: false })] });
    expect(forwardMacsPerSample(m.graph)).toBe(4 * 2 * 3);
  });

  it('counts a transposed convolution as input pixels × kh × kw × cin × cout', () => {
    const m = sequential({ inputShape: [5, 5, 2], layers: [conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2 })] });
    expect(forwardMacsPerSample(m.graph)).toBe(5 * 5 * 2 * 3 * 3 * 3);
  });
});
