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
import { deconvOutputLength, type Padding } from '../shape-rules.js';
import type { Shape } from '../tensor.js';
import { Layer, type BaseLayerOptions, type SpatialMap, type WeightSpec } from './layer.js';

/** Options of {@link conv2dTranspose}. */
export interface Conv2dTransposeOptions extends BaseLayerOptions, KernelInitializerOptions, KernelRegularizerOptions {
  /** Number of output channels. */
  filters: number;
  /** Kernel height and width. */
  kernelSize: number | [number, number];
  /** Strides (default 1): the upsampling factor. */
  strides?: number | [number, number];
  /** `valid` (default): out = in·s + max(k − s, 0); `same`: out = in·s. */
  padding?: Padding;
  /** Add a bias (default true). */
  useBias?: boolean;
  /** Activation applied to the output (default `linear`). */
  activation?: ActivationName;
}

/** Resolved configuration of a transposed 2-D convolution. */
export interface Conv2dTransposeConfig extends KernelInitializerConfig, KernelRegularizerConfig {
  readonly filters: number;
  readonly kernelSize: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly padding: Padding;
  readonly useBias: boolean;
  readonly activation: ActivationName;
}

/**
 * Transposed 2-D convolution ("deconvolution"), the gradient of conv2d with
 * respect to its input. Input `[batch, h, w, cin]`, output
 * `[batch, h', w', filters]` by Keras's deconv_output_length; kernel
 * `[kh, kw, filters, cin]` (Keras's layout: output channels before input
 * channels), bias `[filters]`.
 */
export class Conv2DTranspose extends Layer<'conv2dTranspose'> {
  readonly kind = 'conv2dTranspose';
  readonly className = 'Conv2DTranspose';

  constructor(options: Conv2dTransposeOptions) {
    const who = layerName(options?.name, 'conv2d_transpose') ?? 'conv2d_transpose';
    knownOptions(
      options,
      ['filters', 'kernelSize', 'strides', 'padding', 'useBias', 'activation', 'name', 'seed', ...KERNEL_INITIALIZER_OPTIONS, ...KERNEL_REGULARIZER_OPTIONS],
      who,
    );
    super(
      {
        filters: positiveInt(options.filters, 'filters', who),
        kernelSize: intTuple(options.kernelSize, 2, 'kernelSize', who) as [number, number],
        strides: intTuple(options.strides ?? 1, 2, 'strides', who) as [number, number],
        padding: padding(options.padding, who),
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
    const { kernelSize: k, strides: s, padding: p, filters } = this.config;
    return [deconvOutputLength(inputShape[0], k[0], s[0], p), deconvOutputLength(inputShape[1], k[1], s[1], p), filters];
  }

  override weightSpecs(inputShape: Shape): WeightSpec[] {
    const [kh, kw] = this.config.kernelSize;
    const cin = inputShape[2];
    const { filters } = this.config;
    // Keras computes fans from the kernel shape [kh, kw, filters, cin]: fanIn uses shape[-2] = filters.
    const fanIn = kh * kw * filters;
    const fanOut = kh * kw * cin;
    return kernelAndBiasSpecs(this.config, [kh, kw, filters, cin], filters, fanIn, fanOut);
  }

  override spatialMap(): SpatialMap {
    return { mode: 'transpose', kernel: this.config.kernelSize, strides: this.config.strides, dilation: [1, 1] };
  }
}

/** Creates a {@link Conv2DTranspose} layer. */
export function conv2dTranspose(options: Conv2dTransposeOptions): Conv2DTranspose {
  return new Conv2DTranspose(options);
}
