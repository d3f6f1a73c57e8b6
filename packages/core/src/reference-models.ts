import { conv2d } from './layers/conv2d.js';
import { maxPooling2d } from './layers/max-pooling2d.js';
import { upSampling2d } from './layers/up-sampling2d.js';
import { concatenate } from './layers/concatenate.js';
import { add } from './layers/add.js';
import { activation } from './layers/activation.js';
import { batchNormalization } from './layers/batch-normalization.js';
import { dense } from './layers/dense.js';
import { dropout } from './layers/dropout.js';
import { globalAveragePooling2d } from './layers/global-average-pooling2d.js';
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

/** Options of {@link smallResidualNetwork}. */
export interface SmallResidualNetworkOptions {
  /** Seed of the initial weights and of the dropout masks (default 0). */
  seed?: number;
}

/**
 * The small residual classifier for 28×28×1 MNIST digits (9,930
 * parameters, 160 of them non-trainable: the batch normalisations' moving
 * statistics): conv 16 → batchNormalization → relu → maxPool 2 (14×14) → two
 * residual blocks [conv 16 → BN → relu → conv 16 → BN → add the block's input
 * → relu] → globalAveragePooling2d → dropout 0.2 → dense 10 softmax. Every
 * convolution 3×3 `same`; every BN with momentum 0.9 (Keras's 0.99 lets the
 * moving statistics lag weights that still change fast: after one epoch the
 * inference accuracy then swings with the seed). Train it with categorical
 * cross-entropy on one-hot labels.
 */
export function smallResidualNetwork(options: SmallResidualNetworkOptions = {}): Model {
  const seed = options.seed ?? 0;
  const conv = () => conv2d({ filters: 16, kernelSize: 3, padding: 'same' });
  const bn = () => batchNormalization({ momentum: 0.9 });
  const relu = () => activation({ activation: 'relu' });
  const x = input({ shape: [28, 28, 1], name: 'digits' });
  let h = maxPooling2d({ poolSize: 2 }).apply(relu().apply(bn().apply(conv().apply(x))));
  for (let block = 0; block < 2; block++) {
    const inner = bn().apply(conv().apply(relu().apply(bn().apply(conv().apply(h)))));
    h = relu().apply(add().apply([inner, h]));
  }
  const pooled = dropout({ rate: 0.2, seed: seed + 1 }).apply(globalAveragePooling2d().apply(h));
  return model({ name: 'resnet', inputs: x, outputs: dense({ units: 10, activation: 'softmax' }).apply(pooled), seed });
}
