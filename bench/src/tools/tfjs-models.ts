/**
 * The three reference models the tfjs tools time, each with the loss, the
 * optimizer and the batch size of its reference training run, and a seeded
 * MNIST-like batch (mostly blank background, strokes in [0, 1]), so that no
 * dataset is read.
 */
import { denoisingUnet, mnistAutoencoder, randomNormal, randomUniform, smallResidualNetwork, type LossConfig, type Model, type Tensor } from '@araboza/core';

/** The names the tools accept for `--model`. */
export const TFJS_TOOL_MODELS = ['autoencoder', 'unet', 'resnet'] as const;

/** One of {@link TFJS_TOOL_MODELS}. */
export type TfjsToolModelName = (typeof TFJS_TOOL_MODELS)[number];

/** A reference model with what one training step of it needs. */
export interface TfjsToolModel {
  /** The model (seed 0), whose graph and initial weights the tools compile. */
  readonly model: Model;
  /** Its reference loss. */
  readonly loss: LossConfig;
  /** Its reference batch size. */
  readonly defaultBatch: number;
  /** A seeded input batch and its target of `batch` samples. */
  batch(batch: number): { x: Tensor; y: Tensor };
}

/** `batch` MNIST-like 28×28×1 images: uniform values, 80 % of them zeroed. */
function digits(batch: number, seed: number): Tensor {
  const x = randomUniform([batch, 28, 28, 1], { seed });
  for (let i = 0; i < x.data.length; i++) x.data[i] = x.data[i] < 0.8 ? 0 : x.data[i];
  return x;
}

/**
 * The reference model `name`: the autoencoder (batch 256, binary
 * cross-entropy, x → x), the denoising U-Net (batch 256, binary
 * cross-entropy, clip(x + 0.5·N(0, 1), 0, 1) → x) or the small residual
 * network (batch 128, categorical cross-entropy on seeded one-hot labels).
 * Every one trains with adam. Throws on any other name.
 */
export function tfjsToolModel(name: string): TfjsToolModel {
  switch (name) {
    case 'autoencoder':
      return {
        model: mnistAutoencoder({ seed: 0 }),
        loss: 'binaryCrossentropy',
        defaultBatch: 256,
        batch: (n) => {
          const x = digits(n, 1);
          return { x, y: x };
        },
      };
    case 'unet':
      return {
        model: denoisingUnet({ seed: 0 }),
        loss: 'binaryCrossentropy',
        defaultBatch: 256,
        batch: (n) => {
          const y = digits(n, 1);
          const noise = randomNormal(y.shape, { seed: 2 });
          const x = { shape: y.shape, data: y.data.map((v, i) => Math.min(Math.max(v + 0.5 * noise.data[i], 0), 1)) };
          return { x, y };
        },
      };
    case 'resnet':
      return {
        model: smallResidualNetwork({ seed: 0 }),
        loss: 'categoricalCrossentropy',
        defaultBatch: 128,
        batch: (n) => {
          const labels = randomUniform([n], { seed: 3 });
          const y = { shape: [n, 10], data: new Float32Array(n * 10) };
          labels.data.forEach((u, i) => (y.data[i * 10 + Math.min(Math.floor(u * 10), 9)] = 1));
          return { x: digits(n, 1), y };
        },
      };
    default:
      throw new Error(`--model must be one of ${TFJS_TOOL_MODELS.join(', ')}; got ${JSON.stringify(name)}`);
  }
}
