import { conv2d } from './layers/conv2d.js';
import { maxPooling2d } from './layers/max-pooling2d.js';
import { upSampling2d } from './layers/up-sampling2d.js';
import { sequential, type Model } from './model.js';

/** Options of {@link mnistAutoencoder}. */
export interface MnistAutoencoderOptions {
  /** Seed of the initial weights (default 0). */
  seed?: number;
}

/**
 * The study note's convolutional autoencoder for 28×28×1 MNIST digits
 * (3,369 parameters). Encoder: conv 16 → pool → conv 8 → pool → conv 4 →
 * pool (4×4×4 bottleneck, `same` pooling turns 7×7 into 4×4). Decoder:
 * conv 4 → up → conv 8 → up → conv 16 `valid` (16→14) → up → conv 1 sigmoid.
 * All convolutions 3×3, relu, `same` unless noted. Train it with binary
 * cross-entropy (computed from logits, as the output is a sigmoid).
 */
export function mnistAutoencoder(options: MnistAutoencoderOptions = {}): Model {
  const conv = (filters: number, activation: 'relu' | 'sigmoid' = 'relu', padding: 'same' | 'valid' = 'same') =>
    conv2d({ filters, kernelSize: 3, activation, padding });
  return sequential({
    name: 'autoencoder',
    inputShape: [28, 28, 1],
    seed: options.seed ?? 0,
    layers: [
      conv(16),
      maxPooling2d({ poolSize: 2, padding: 'same' }),
      conv(8),
      maxPooling2d({ poolSize: 2, padding: 'same' }),
      conv(4),
      maxPooling2d({ poolSize: 2, padding: 'same' }),
      conv(4),
      upSampling2d({ size: 2 }),
      conv(8),
      upSampling2d({ size: 2 }),
      conv(16, 'relu', 'valid'),
      upSampling2d({ size: 2 }),
      conv(1, 'sigmoid'),
    ],
  });
}
