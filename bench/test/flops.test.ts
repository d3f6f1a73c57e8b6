import { conv2dTranspose, dense, denoisingUnet, mnistAutoencoder, sequential, smallResidualNetwork } from '@araboza/core';
import { describe, expect, it } from 'vitest';
import { forwardMacsPerSample } from '../src/flops.js';

describe('forwardMacsPerSample', () => {
  it('counts 712,224 multiply-adds for the MNIST autoencoder (the PyTorch reference count)', () => {
    expect(forwardMacsPerSample(mnistAutoencoder({ seed: 0 }).graph)).toBe(712_224);
  });

  it('counts 3,273,984 multiply-adds for the U-Net: its six convolutions, nothing for pooling, upsampling and concatenation', () => {
    // 28²·8·9 + 14²·16·72 + 7²·32·144 + 14²·16·432 + 28²·8·216 + 28²·1·72 (PyTorch's conv_macs gives the same).
    expect(forwardMacsPerSample(denoisingUnet({ seed: 0 }).graph)).toBe(3_273_984);
  });

  it('counts 1,919,392 multiply-adds for the residual network: convolutions and dense, nothing for normalisation, addition, dropout', () => {
    // 28²·16·9 + 4 × 14²·16·144 + 16·10.
    expect(forwardMacsPerSample(smallResidualNetwork({ seed: 0 }).graph)).toBe(1_919_392);
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
