import { conv2d } from './layers/conv2d.js';
import { maxPooling2d } from './layers/max-pooling2d.js';
import { upSampling2d } from './layers/up-sampling2d.js';
import { concatenate } from './layers/concatenate.js';
import { input, model, sequential, type Model } from './model.js';

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

/** Options of {@link denoisingUnet}. */
export interface DenoisingUnetOptions {
  /** Seed of the initial weights (default 0). */
  seed?: number;
}

/**
 * The denoising U-Net for 28×28×1 MNIST digits (14,625 parameters): the
 * autoencoder's shape with skip connections. c1 = conv 8 (28×28) → pool →
 * c2 = conv 16 (14×14) → pool → c3 = conv 32 (7×7) → up → concatenate with
 * c2 (48 channels) → conv 16 → up → concatenate with c1 (24 channels) →
 * conv 8 → conv 1 sigmoid. All convolutions 3×3 `same`, relu but the last.
 * Train it with binary cross-entropy from noisy inputs to clean targets.
 */
export function denoisingUnet(options: DenoisingUnetOptions = {}): Model {
  const conv = (filters: number, activation: 'relu' | 'sigmoid' = 'relu') => conv2d({ filters, kernelSize: 3, activation, padding: 'same' });
  const x = input({ shape: [28, 28, 1], name: 'noisy' });
  const c1 = conv(8).apply(x);
  const c2 = conv(16).apply(maxPooling2d({ poolSize: 2 }).apply(c1));
  const c3 = conv(32).apply(maxPooling2d({ poolSize: 2 }).apply(c2));
  const u2 = conv(16).apply(concatenate().apply([upSampling2d({ size: 2 }).apply(c3), c2]));
  const u1 = conv(8).apply(concatenate().apply([upSampling2d({ size: 2 }).apply(u2), c1]));
  return model({ name: 'unet', inputs: x, outputs: conv(1, 'sigmoid').apply(u1), seed: options.seed ?? 0 });
}
