import { Random, type Tensor } from '@araboza/core';

/** Standard deviation of the Gaussian noise the U-Net learns to remove (as in the CLI's U-Net example). */
export const NOISE_STDDEV = 0.5;

/** Seed of the noise the page adds to its digits (scripts/browser-check.mjs draws the same noise for its reference). */
export const NOISE_SEED = 1;

/**
 * Digits with seeded Gaussian noise, clipped back to [0, 1]: `clip(x + 0.5·N(0, 1), 0, 1)`,
 * one draw of core's `Random(seed).normal()` per pixel, in order.
 */
export function noisy(images: Tensor, seed: number = NOISE_SEED): Tensor {
  const rng = new Random(seed);
  return { shape: [...images.shape], data: images.data.map((v) => Math.min(1, Math.max(0, v + NOISE_STDDEV * rng.normal()))) };
}
