import { denoisingUnet, mnistAutoencoder, smallResidualNetwork, type Model } from '@araboza/core';
import type { ContenderId, Measure, ModelId } from './protocol.js';

/** How one model is built, fed and trained, the same for every contender. */
export interface ModelSpec {
  /** What it is, for logs and the README. */
  description: string;
  /** The `@araboza/core` model, with its seeded initial weights. */
  build: (seed: number) => Model;
  /** Total parameters (Keras's "Total params"), which every contender's model must have. */
  params: number;
  /** Of those, the non-trainable ones (moving statistics). */
  nonTrainableParams: number;
  /** Images per training step, epoch batch and inference batch. */
  batchSize: number;
  /** The training loss (no metrics are compiled: PyTorch's loop computes none). */
  loss: 'binaryCrossentropy' | 'categoricalCrossentropy';
  /** What a training sample is: the clean image (autoencoder), its noisy copy (U-Net), the image with its one-hot label (classifier). */
  data: 'reconstruct' | 'denoise' | 'classify';
}

/** The three reference models: the study note's autoencoder and DESIGN.md's two second-stage ones. */
export const MODELS: { readonly [M in ModelId]: ModelSpec } = {
  autoencoder: {
    description: 'MNIST convolutional autoencoder (binary cross-entropy, image → itself)',
    build: (seed) => mnistAutoencoder({ seed }),
    params: 3369,
    nonTrainableParams: 0,
    batchSize: 256,
    loss: 'binaryCrossentropy',
    data: 'reconstruct',
  },
  unet: {
    description: 'denoising U-Net (binary cross-entropy, clip(x + 0.5·N(0, 1), 0, 1) → x)',
    build: (seed) => denoisingUnet({ seed }),
    params: 14_625,
    nonTrainableParams: 0,
    batchSize: 256,
    loss: 'binaryCrossentropy',
    data: 'denoise',
  },
  resnet: {
    description: 'small residual classifier (batch normalisation, dropout; categorical cross-entropy on one-hot labels)',
    build: (seed) => smallResidualNetwork({ seed }),
    params: 9930,
    nonTrainableParams: 160,
    batchSize: 128,
    loss: 'categoricalCrossentropy',
    data: 'classify',
  },
};

/**
 * The measures contender `c` takes part in on model `m`. Training (step,
 * epoch) runs on every model but on tfjs's pure-JS engine (far too slow);
 * tfjs's threaded wasm build takes training steps only; inference and
 * validation are measured on the autoencoder only.
 */
export function contenderMeasures(m: ModelId, c: ContenderId): readonly Measure[] {
  if (c === 'tfjs-cpu') return m === 'autoencoder' ? ['inference'] : [];
  // The threaded wasm build: training steps only, to see what a second thread buys (its epochs would add minutes).
  if (c === 'tfjs-wasm-threads') return ['trainStep'];
  return m === 'autoencoder' ? ['trainStep', 'inference', 'epoch', 'validatedEpoch'] : ['trainStep', 'epoch'];
}
