import { resolve } from 'node:path';
import { checkFileTarget, checkFolderTarget, denoisingUnet, Random, resolveOptimizer, slice, type Backend, type Tensor } from '@araboza/core';
import { loadMnist } from '@araboza/datasets';
import { writeImageGrid } from './png.js';
import type { Reporter } from './report.js';

/** Options of the U-Net example. */
export interface UnetOptions {
  /** Passes over the training images (default 1). */
  epochs: number;
  /** Images per training step (default 256). */
  batchSize: number;
  /** Train on the first `limit` training images only (default all 60,000). */
  limit?: number;
  /** Where the 3×10 grid (noisy / denoised / clean) goes. */
  out: string;
  /** Folder to save the trained model to. */
  save?: string;
  /** Seed of the initial weights, the noise and the shuffle. */
  seed: number;
  /** Progress display of `fit`. */
  verbose: 0 | 1 | 2;
}

/** Standard deviation of the Gaussian noise added to the digits. */
export const NOISE_STDDEV = 0.5;

/**
 * Digits with seeded Gaussian noise, clipped back to [0, 1]:
 * `clip(x + 0.5·N(0, 1), 0, 1)`.
 */
export function addNoise(images: Tensor, seed: number): Tensor {
  const rng = new Random(seed);
  const data = new Float32Array(images.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.min(1, Math.max(0, images.data[i] + NOISE_STDDEV * rng.normal()));
  return { shape: [...images.shape], data };
}

/**
 * The denoising U-Net (14,625 parameters, with two concatenated skips):
 * trains on noisy MNIST digits to give back the clean ones (binary
 * cross-entropy, Adam), reports the test loss on noisy test digits against
 * clean ones, and draws 10 test digits: noisy, denoised, clean.
 */
export async function runUnet(backend: Backend, options: UnetOptions, report: Reporter): Promise<object> {
  // Where the results go is checked before any data is loaded: a bad path must not cost the training.
  const png = resolve(options.out);
  await checkFileTarget(png, '--out', true);
  if (options.save) await checkFolderTarget(options.save, '--save');
  const train = await loadMnist({ split: 'train', limit: options.limit });
  const test = await loadMnist({ split: 'test' });
  // Different seeds for the two splits, so the test noise is not the training noise.
  const noisyTrain = addNoise(train.images, options.seed * 2 + 1);
  const noisyTest = addNoise(test.images, options.seed * 2 + 2);
  report.line(`MNIST: ${train.count} training and ${test.count} test images, noise ${NOISE_STDDEV}·N(0, 1) clipped to [0, 1]`);
  const model = denoisingUnet({ seed: options.seed });
  model.summary({ print: (text) => report.line(text) });
  const optimizer = resolveOptimizer('adam');
  model.compile({ backend, optimizer, loss: 'binaryCrossentropy' });
  report.line(`training on ${backend.name}: ${options.epochs} epochs, batch ${options.batchSize}, adam (learning rate ${optimizer.learningRate})`);
  const started = performance.now();
  const history = await model.fit(noisyTrain, train.images, {
    epochs: options.epochs,
    batchSize: options.batchSize,
    shuffle: true,
    seed: options.seed,
    verbose: options.verbose,
  });
  const secondsPerEpoch = (performance.now() - started) / 1000 / options.epochs;
  const { loss: testBce } = await model.evaluate(noisyTest, test.images, { batchSize: 1000 });
  // The trained model is saved first: it is what a failure drawing the picture must not lose.
  if (options.save) {
    await model.save(options.save);
    report.line(`model saved to ${resolve(options.save)}`);
  }
  if (!Number.isFinite(testBce)) throw new Error(`the test binary cross-entropy is ${testBce}: training diverged`);
  report.line(`test binary cross-entropy (noisy input, clean target): ${testBce.toFixed(4)} (${secondsPerEpoch.toFixed(1)} s per epoch)`);

  const noisy = slice(noisyTest, 0, 10);
  const denoised = await model.predict(noisy);
  const grid: Tensor = { shape: [30, 28, 28, 1], data: new Float32Array(30 * 784) };
  grid.data.set(noisy.data, 0);
  grid.data.set(denoised.data, 10 * 784);
  grid.data.set(slice(test.images, 0, 10).data, 20 * 784);
  await writeImageGrid(grid, 3, 10, png);
  report.line(`noisy test digits (top), denoised (middle), clean (bottom): ${png}`);
  model.dispose();
  return {
    example: 'unet',
    backend: backend.name,
    params: model.countParams(),
    trainableParams: model.countTrainableParams(),
    nonTrainableParams: model.countNonTrainableParams(),
    epochs: options.epochs,
    history: { loss: history.history.loss },
    testBce,
    secondsPerEpoch,
    png,
  };
}
