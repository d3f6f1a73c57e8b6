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

/** Options of {@link conv2d}. */
export interface Conv2dOptions extends BaseLayerOptions, KernelInitializerOptions, KernelRegularizerOptions {
  /** Number of output channels. */
  filters: number;
  /** Kernel height and width (one number for both). */
  kernelSize: number | [number, number];
  /** Strides (default 1). */
  strides?: number | [number, number];
  /** `valid` (default) or `same` (Keras's asymmetric padding, larger half after). */
  padding?: Padding;
  /** Dilation (default 1); strides and dilation cannot both exceed 1, as in Keras. */
  dilationRate?: number | [number, number];
  /** Add a bias (default true). */
  useBias?: boolean;
  /** Activation applied to the output (default `linear`). */
  activation?: ActivationName;
}

/** Resolved configuration of a 2-D convolution. */
export interface Conv2dConfig extends KernelInitializerConfig, KernelRegularizerConfig {
  readonly filters: number;
  readonly kernelSize: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly padding: Padding;
  readonly dilationRate: readonly [number, number];
  readonly useBias: boolean;
  readonly activation: ActivationName;
}

const CONV2D_OPTIONS = [
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
];

/**
 * 2-D convolution over `[batch, height, width, channels]` (channels-last).
 * Output `[batch, h', w', filters]` with h' by Keras's conv_output_length;
 * kernel `[kh, kw, cin, filters]`, bias `[filters]`.
 */
export class Conv2D extends Layer<'conv2d'> {
  readonly kind = 'conv2d';
  readonly className = 'Conv2D';

  constructor(options: Conv2dOptions) {
    const who = layerName(options?.name, 'conv2d') ?? 'conv2d';
    knownOptions(options, CONV2D_OPTIONS, who);
    const strides = intTuple(options.strides ?? 1, 2, 'strides', who) as [number, number];
    const dilationRate = intTuple(options.dilationRate ?? 1, 2, 'dilationRate', who) as [number, number];
    if (strides.some((s) => s > 1) && dilationRate.some((d) => d > 1)) {
      throw new ConfigError(`${who}: strides ${JSON.stringify(strides)} and dilationRate ${JSON.stringify(dilationRate)} cannot both exceed 1`);
    }
    super(
      {
        filters: positiveInt(options.filters, 'filters', who),
        kernelSize: intTuple(options.kernelSize, 2, 'kernelSize', who) as [number, number],
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
    if (inputShape.length !== 3) this.shapeError('(None, height, width, channels)', inputShape);
    const { kernelSize: k, strides: s, dilationRate: d, padding: p, filters } = this.config;
    const out = [0, 1].map((i) => convOutputLength(inputShape[i], k[i], s[i], d[i], p));
    if (out.some((o) => o <= 0)) {
      const need = [0, 1].map((i) => dilatedKernelSize(k[i], d[i]));
      this.shapeError(`(None, ≥${need[0]}, ≥${need[1]}, channels) for a ${k[0]}×${k[1]} valid kernel`, inputShape);
    }
    return [out[0], out[1], filters];
  }

  override weightSpecs(inputShape: Shape): WeightSpec[] {
    const [kh, kw] = this.config.kernelSize;
    const cin = inputShape[2];
    const { filters } = this.config;
    const fanIn = kh * kw * cin;
    const fanOut = kh * kw * filters;
    return kernelAndBiasSpecs(this.config, [kh, kw, cin, filters], filters, fanIn, fanOut);
  }

  override spatialMap(): SpatialMap {
    return { mode: 'conv', kernel: this.config.kernelSize, strides: this.config.strides, dilation: this.config.dilationRate };
  }
}

/** Creates a {@link Conv2D} layer. */
export function conv2d(options: Conv2dOptions): Conv2D {
  return new Conv2D(options);
}
