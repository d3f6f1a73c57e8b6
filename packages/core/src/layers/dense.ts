import { KERNEL_INITIALIZER_OPTIONS, kernelAndBiasInitializers, type KernelInitializerConfig, type KernelInitializerOptions } from '../initializers.js';
import {
  KERNEL_REGULARIZER_OPTIONS,
  kernelAndBiasRegularizers,
  kernelAndBiasSpecs,
  type KernelRegularizerConfig,
  type KernelRegularizerOptions,
} from '../regularizers.js';
import { resolveActivation, type ActivationName } from '../activations.js';
import { bool, knownOptions, layerName, positiveInt } from '../config-checks.js';
import type { Shape } from '../tensor.js';
import { Layer, type BaseLayerOptions, type WeightSpec } from './layer.js';

/** Options of {@link dense}. */
export interface DenseOptions extends BaseLayerOptions, KernelInitializerOptions, KernelRegularizerOptions {
  /** Output size of the last axis. */
  units: number;
  /** Add a bias (default true). */
  useBias?: boolean;
  /** Activation applied to the output (default `linear`). */
  activation?: ActivationName;
}

/** Resolved configuration of a dense layer. */
export interface DenseConfig extends KernelInitializerConfig, KernelRegularizerConfig {
  readonly units: number;
  readonly useBias: boolean;
  readonly activation: ActivationName;
}

/**
 * Fully connected layer over the last axis: `y = activation(x · kernel + bias)`.
 * Input `[batch, …, in]` (rank ≥ 2), output `[batch, …, units]`; kernel `[in, units]`, bias `[units]`.
 */
export class Dense extends Layer<'dense'> {
  readonly kind = 'dense';
  readonly className = 'Dense';

  constructor(options: DenseOptions) {
    const who = layerName(options?.name, 'dense') ?? 'dense';
    knownOptions(options, ['units', 'useBias', 'activation', 'name', 'seed', ...KERNEL_INITIALIZER_OPTIONS, ...KERNEL_REGULARIZER_OPTIONS], who);
    super(
      {
        units: positiveInt(options?.units, 'units', who),
        useBias: bool(options.useBias, true, 'useBias', who),
        ...kernelAndBiasInitializers(options, who),
        ...kernelAndBiasRegularizers(options, who),
        activation: resolveActivation(options.activation, who),
      },
      options,
    );
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length < 1) this.shapeError('(None, ..., features) of rank ≥ 2', inputShape);
    return [...inputShape.slice(0, -1), this.config.units];
  }

  override weightSpecs(inputShape: Shape): WeightSpec[] {
    const fanIn = inputShape[inputShape.length - 1];
    const { units } = this.config;
    return kernelAndBiasSpecs(this.config, [fanIn, units], units, fanIn, units);
  }
}

/** Creates a {@link Dense} layer. */
export function dense(options: DenseOptions): Dense {
  return new Dense(options);
}
