import { resolveInitializer, type Initializer, type InitializerLike } from '../initializers.js';
import { resolveRegularizerOptions, withRegularizer, type Regularizer, type RegularizerLike } from '../regularizers.js';
import { resolveActivation } from '../activations.js';
import { bool, knownOptions, layerName, positiveInt } from '../config-checks.js';
import type { Shape } from '../tensor.js';
import {
  DEPTHWISE_OPTIONS,
  depthwiseGeometry,
  depthwiseInitializers,
  depthwiseRegularizers,
  depthwiseOutputShape,
  type DepthwiseConv2dConfig,
  type DepthwiseConv2dOptions,
} from './depthwise-conv2d.js';
import { Layer, type SpatialMap, type WeightSpec } from './layer.js';

/**
 * Options of {@link separableConv2d}: the depthwise step's (kernel size,
 * depth multiplier, strides, padding), the bias (`[filters]`, after the
 * pointwise step) and activation, and the pointwise step's `filters`.
 */
export interface SeparableConv2dOptions extends DepthwiseConv2dOptions {
  /** Number of output channels (of the pointwise step). */
  filters: number;
  /** Initialiser of the pointwise kernel (default `glorotUniform`). */
  pointwiseInitializer?: InitializerLike;
  /** Penalty on the pointwise kernel added to the training loss (none by default). */
  pointwiseRegularizer?: RegularizerLike;
}

/** Resolved configuration of a separable 2-D convolution. */
export interface SeparableConv2dConfig extends DepthwiseConv2dConfig {
  readonly filters: number;
  readonly pointwiseInitializer: Initializer;
  /** Set only when given. */
  readonly pointwiseRegularizer?: Regularizer;
}

const SEPARABLE_OPTIONS = [...DEPTHWISE_OPTIONS, 'filters', 'pointwiseInitializer', 'pointwiseRegularizer'];

/**
 * Separable 2-D convolution (Keras's `SeparableConv2D`): a depthwise
 * convolution (kernel `[kh, kw, channels, depthMultiplier]`, the strides and
 * padding, no bias) then a 1×1 pointwise convolution (kernel
 * `[1, 1, channels · depthMultiplier, filters]`), then the bias `[filters]`
 * and the activation. Glorot fans from each kernel's shape as Keras computes
 * them: depthwise kh·kw·channels in, kh·kw·depthMultiplier out; pointwise
 * channels·depthMultiplier in, filters out.
 */
export class SeparableConv2D extends Layer<'separableConv2d'> {
  readonly kind = 'separableConv2d';
  readonly className = 'SeparableConv2D';

  constructor(options: SeparableConv2dOptions) {
    const who = layerName(options?.name, 'separable_conv2d') ?? 'separable_conv2d';
    knownOptions(options, SEPARABLE_OPTIONS, who);
    super(
      {
        filters: positiveInt(options.filters, 'filters', who),
        ...depthwiseGeometry(options, who),
        useBias: bool(options.useBias, true, 'useBias', who),
        activation: resolveActivation(options.activation, who),
        ...depthwiseInitializers(options, who),
        ...depthwiseRegularizers(options, who),
        pointwiseInitializer: resolveInitializer(options.pointwiseInitializer, 'glorotUniform', 'pointwiseInitializer', who, 4),
        ...resolveRegularizerOptions(options, ['pointwiseRegularizer'], who),
      },
      options,
    );
  }

  computeOutputShape(inputShape: Shape): number[] {
    const [h, w] = depthwiseOutputShape(inputShape, this.config, (e, a) => this.shapeError(e, a));
    return [h, w, this.config.filters];
  }

  override weightSpecs(inputShape: Shape): WeightSpec[] {
    const [kh, kw] = this.config.kernelSize;
    const cin = inputShape[2];
    const { depthMultiplier: mult, filters } = this.config;
    const specs: WeightSpec[] = [
      {
        name: 'depthwiseKernel',
        shape: [kh, kw, cin, mult],
        initializer: this.config.depthwiseInitializer,
        fanIn: kh * kw * cin,
        fanOut: kh * kw * mult,
        ...withRegularizer(this.config.depthwiseRegularizer),
      },
      {
        name: 'pointwiseKernel',
        shape: [1, 1, cin * mult, filters],
        initializer: this.config.pointwiseInitializer,
        fanIn: cin * mult,
        fanOut: filters,
        ...withRegularizer(this.config.pointwiseRegularizer),
      },
    ];
    if (this.config.useBias)
      specs.push({
        name: 'bias',
        shape: [filters],
        initializer: this.config.biasInitializer,
        fanIn: cin * mult,
        fanOut: filters,
        ...withRegularizer(this.config.biasRegularizer),
      });
    return specs;
  }

  override spatialMap(): SpatialMap {
    return { mode: 'conv', kernel: this.config.kernelSize, strides: this.config.strides, dilation: [1, 1] };
  }
}

/** Creates a {@link SeparableConv2D} layer. */
export function separableConv2d(options: SeparableConv2dOptions): SeparableConv2D {
  return new SeparableConv2D(options);
}
