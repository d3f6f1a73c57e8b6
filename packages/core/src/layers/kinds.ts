import type { ActivationConfig } from './activation.js';
import type { Conv1dConfig } from './conv1d.js';
import type { Conv2dConfig } from './conv2d.js';
import type { Conv2dTransposeConfig } from './conv2d-transpose.js';
import type { DenseConfig } from './dense.js';
import type { FlattenConfig } from './flatten.js';
import type { Pooling2dConfig } from './pooling2d.js';
import type { ReshapeConfig } from './reshape.js';
import type { UpSampling2dConfig } from './up-sampling2d.js';
import type { MergeConfig } from './merge.js';
import type { ConcatenateConfig } from './concatenate.js';

/** Resolved configuration of each layer kind; the key set is every kind core defines. */
export interface LayerConfigs {
  dense: DenseConfig;
  conv1d: Conv1dConfig;
  conv2d: Conv2dConfig;
  conv2dTranspose: Conv2dTransposeConfig;
  maxPooling2d: Pooling2dConfig;
  averagePooling2d: Pooling2dConfig;
  upSampling2d: UpSampling2dConfig;
  flatten: FlattenConfig;
  reshape: ReshapeConfig;
  activation: ActivationConfig;
  add: MergeConfig;
  subtract: MergeConfig;
  multiply: MergeConfig;
  average: MergeConfig;
  maximum: MergeConfig;
  minimum: MergeConfig;
  concatenate: ConcatenateConfig;
}

/** A layer kind: the key of every backend's lowering table. */
export type LayerKind = keyof LayerConfigs;

/** Every layer kind core defines, in a stable order. */
export const LAYER_KINDS: readonly LayerKind[] = [
  'dense',
  'conv1d',
  'conv2d',
  'conv2dTranspose',
  'maxPooling2d',
  'averagePooling2d',
  'upSampling2d',
  'flatten',
  'reshape',
  'activation',
  'add',
  'subtract',
  'multiply',
  'average',
  'maximum',
  'minimum',
  'concatenate',
];

/** The kinds that read several values (merge layers); every other kind reads one. */
export const MERGE_KINDS: readonly LayerKind[] = ['add', 'subtract', 'multiply', 'average', 'maximum', 'minimum', 'concatenate'];

/** Keras's default (snake_case) name of each kind; models number repeats (`conv2d_1`). */
export const DEFAULT_LAYER_NAMES: { readonly [K in LayerKind]: string } = {
  dense: 'dense',
  conv1d: 'conv1d',
  conv2d: 'conv2d',
  conv2dTranspose: 'conv2d_transpose',
  maxPooling2d: 'max_pooling2d',
  averagePooling2d: 'average_pooling2d',
  upSampling2d: 'up_sampling2d',
  flatten: 'flatten',
  reshape: 'reshape',
  activation: 'activation',
  add: 'add',
  subtract: 'subtract',
  multiply: 'multiply',
  average: 'average',
  maximum: 'maximum',
  minimum: 'minimum',
  concatenate: 'concatenate',
};
