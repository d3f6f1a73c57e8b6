import { layers, zeros } from '@araboza/core';
import { describe, expect, it } from 'vitest';
import { backend } from './helpers.js';

describe('reference experiment 3: convolution on a full-HD batch', () => {
  it('conv2d(16, 5×5, stride 5) on zeros([64, 1920, 1080, 3]) → [64, 384, 216, 16] → flatten → dense(1), within 4 GB RSS', async () => {
    const x = zeros([64, 1920, 1080, 3]); // 1.6 GB: predict runs it a few images per session.run
    const conv = layers.conv2d({ filters: 16, kernelSize: 5, strides: 5, useBias: false });
    const features = await conv.apply(x, { backend });
    expect(features.shape).toEqual([64, 384, 216, 16]);
    expect(conv.countParams()).toBe(1200);
    const flat = await layers.flatten().apply(features, { backend });
    expect(flat.shape).toEqual([64, 1327104]);
    const dense = layers.dense({ units: 1, useBias: false });
    const y = await dense.apply(flat, { backend });
    expect(y.shape).toEqual([64, 1]);
    expect(dense.countParams()).toBe(1327104);
    expect(Array.from(y.data).every((v) => v === 0)).toBe(true);
    // maxRSS is the peak of this test worker, in KiB.
    expect(process.resourceUsage().maxRSS * 1024).toBeLessThan(4 * 1024 ** 3);
  }, 120_000);
});
