import { KERNEL_INITIALIZER_OPTIONS, kernelAndBiasInitializers, type KernelInitializerConfig, type KernelInitializerOptions } from '../initializers.js';
import {
  KERNEL_REGULARIZER_OPTIONS,
  kernelAndBiasRegularizers,
  kernelAndBiasSpecs,
  type KernelRegularizerConfig,
  type KernelRegularizerOptions,
} from '../regularizers.js';
import { resolveActivation, type ActivationName } from '../activations.js';
import { bool, intTuple, knownOptions, layerName, padding, positiveInt } from '../config-checks.js';
import { ConfigError } from '../errors.js';
import { convOutputLength, dilatedKernelSize, type Padding } from '../shape-rules.js';
import type { Shape } from '../tensor.js';
import { Layer, type BaseLayerOptions, type SpatialMap, type WeightSpec } from './layer.js';

/** Options of {@link conv1d}. */
export interface Conv1dOptions extends BaseLayerOptions, KernelInitializerOptions, KernelRegularizerOptions {
  /** Number of output channels. */
  filters: number;
  /** Kernel length. */
  kernelSize: number | [number];
  /** Stride (default 1). */
  strides?: number | [number];
  /** `valid` (default) or `same`. */
  padding?: Padding;
  /** Dilation (default 1); stride and dilation cannot both exceed 1. */
  dilationRate?: number | [number];
  /** Add a bias (default true). */
  useBias?: boolean;
  /** Activation applied to the output (default `linear`). */
  activation?: ActivationName;
}

/** Resolved configuration of a 1-D convolution. */
export interface Conv1dConfig extends KernelInitializerConfig, KernelRegularizerConfig {
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: Padding;
  readonly dilationRate: number;
  readonly useBias: boolean;
  readonly activation: ActivationName;
}

/**
 * 1-D convolution over `[batch, steps, channels]`. Output `[batch, steps', filters]`;
 * kernel `[k, cin, filters]`, bias `[filters]`. `[1,2,3,4,5]` with filter
 * `[1, 0, −1]` gives `[−2, −2, −2]` (valid) and `[−2, −2, −2, −2, 4]` (same).
 */
export class Conv1D extends Layer<'conv1d'> {
  readonly kind = 'conv1d';
  readonly className = 'Conv1D';

  constructor(options: Conv1dOptions) {
    const who = layerName(options?.name, 'conv1d') ?? 'conv1d';
    knownOptions(
      options,
      [
        'filters',
        'kernelSize',
        'strides',
        'padding',
        'dilationRate',
        'useBias',
        'activation',
        'name',
        'seed',
        ...KERNEL_INITIALIZER_OPTIONS,
        ...KERNEL_REGULARIZER_OPTIONS,
      ],
      who,
    );
    const strides = intTuple(options.strides ?? 1, 1, 'strides', who)[0];
    const dilationRate = intTuple(options.dilationRate ?? 1, 1, 'dilationRate', who)[0];
    if (strides > 1 && dilationRate > 1) {
      throw new ConfigError(`${who}: strides ${strides} and dilationRate ${dilationRate} cannot both exceed 1`);
    }
    super(
      {
        filters: positiveInt(options.filters, 'filters', who),
        kernelSize: intTuple(options.kernelSize, 1, 'kernelSize', who)[0],
        strides,
        padding: padding(options.padding, who),
        dilationRate,
        useBias: bool(options.useBias, true, 'useBias', who),
        ...kernelAndBiasInitializers(options, who),
        ...kernelAndBiasRegularizers(options, who),
        activation: resolveActivation(options.activation, who),
      },
      options,
    );
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length !== 2) this.shapeError('(None, steps, channels)', inputShape);
    const { kernelSize: k, strides: s, dilationRate: d, padding: p } = this.config;
    const out = convOutputLength(inputShape[0], k, s, d, p);
    if (out <= 0) this.shapeError(`(None, ≥${dilatedKernelSize(k, d)}, channels) for a valid kernel of ${k}`, inputShape);
    return [out, this.config.filters];
  }

  override weightSpecs(inputShape: Shape): WeightSpec[] {
    const { kernelSize: k, filters } = this.config;
    const cin = inputShape[1];
    const fanIn = k * cin;
    const fanOut = k * filters;
    return kernelAndBiasSpecs(this.config, [k, cin, filters], filters, fanIn, fanOut);
  }

  override spatialMap(): SpatialMap {
    return { mode: 'conv', kernel: [this.config.kernelSize], strides: [this.config.strides], dilation: [this.config.dilationRate] };
  }
}

/** Creates a {@link Conv1D} layer. */
export function conv1d(options: Conv1dOptions): Conv1D {
  return new Conv1D(options);
}
