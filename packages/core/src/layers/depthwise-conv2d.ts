import { resolveInitializer, type Initializer, type InitializerLike } from '../initializers.js';
import { resolveRegularizerOptions, withRegularizer, type Regularizer, type RegularizerLike } from '../regularizers.js';
import { resolveActivation, type ActivationName } from '../activations.js';
import { bool, intTuple, knownOptions, layerName, padding, positiveInt } from '../config-checks.js';
import { convOutputLength, type Padding } from '../shape-rules.js';
import type { Shape } from '../tensor.js';
import { Layer, type BaseLayerOptions, type SpatialMap, type WeightSpec } from './layer.js';

/** Options of {@link depthwiseConv2d}. */
export interface DepthwiseConv2dOptions extends BaseLayerOptions {
  /** Kernel height and width (one number for both). */
  kernelSize: number | [number, number];
  /** Output channels per input channel (default 1): the output has `channels · depthMultiplier` channels. */
  depthMultiplier?: number;
  /** Strides (default 1). */
  strides?: number | [number, number];
  /** `valid` (default) or `same` (Keras's asymmetric padding, larger half after). */
  padding?: Padding;
  /** Add a bias of `channels · depthMultiplier` values (default true). */
  useBias?: boolean;
  /** Activation applied to the output (default `linear`). */
  activation?: ActivationName;
  /** Initialiser of the depthwise kernel (default `glorotUniform`): a name or `{name, ...parameters}`. */
  depthwiseInitializer?: InitializerLike;
  /** Initialiser of the bias (default `zeros`). */
  biasInitializer?: InitializerLike;
  /** Penalty on the depthwise kernel added to the training loss (none by default; see `KernelRegularizerOptions`). */
  depthwiseRegularizer?: RegularizerLike;
  /** Penalty on the bias added to the training loss (none by default). */
  biasRegularizer?: RegularizerLike;
}

/** Resolved configuration of a depthwise 2-D convolution. */
export interface DepthwiseConv2dConfig {
  readonly kernelSize: readonly [number, number];
  readonly depthMultiplier: number;
  readonly strides: readonly [number, number];
  readonly padding: Padding;
  readonly useBias: boolean;
  readonly activation: ActivationName;
  readonly depthwiseInitializer: Initializer;
  readonly biasInitializer: Initializer;
  /** Set only when given. */
  readonly depthwiseRegularizer?: Regularizer;
  /** Set only when given. */
  readonly biasRegularizer?: Regularizer;
}

/** The options a depthwise convolution accepts (a separable one accepts these too). */
export const DEPTHWISE_OPTIONS: readonly string[] = [
  'kernelSize',
  'depthMultiplier',
  'strides',
  'padding',
  'useBias',
  'activation',
  'depthwiseInitializer',
  'biasInitializer',
  'depthwiseRegularizer',
  'biasRegularizer',
  'name',
  'seed',
];

/** Resolves the depthwise kernel's and the bias's regularisers, leaving out those not given (shared with separableConv2d). */
export function depthwiseRegularizers(
  options: Pick<DepthwiseConv2dOptions, 'depthwiseRegularizer' | 'biasRegularizer'>,
  who: string,
): Pick<DepthwiseConv2dConfig, 'depthwiseRegularizer' | 'biasRegularizer'> {
  return resolveRegularizerOptions(options, ['depthwiseRegularizer', 'biasRegularizer'], who);
}

/** Resolves the depthwise kernel's and the bias's initialisers (shared with separableConv2d). */
export function depthwiseInitializers(
  options: Pick<DepthwiseConv2dOptions, 'depthwiseInitializer' | 'biasInitializer'>,
  who: string,
): Pick<DepthwiseConv2dConfig, 'depthwiseInitializer' | 'biasInitializer'> {
  return {
    depthwiseInitializer: resolveInitializer(options.depthwiseInitializer, 'glorotUniform', 'depthwiseInitializer', who, 4),
    biasInitializer: resolveInitializer(options.biasInitializer, 'zeros', 'biasInitializer', who, 1),
  };
}

/**
 * Checks the options a depthwise convolution shares with a separable one
 * (kernel size, depth multiplier, strides, padding) for layer `who`.
 * @throws ConfigError naming the layer and the option.
 */
export function depthwiseGeometry(
  options: { kernelSize: unknown; depthMultiplier?: unknown; strides?: unknown; padding?: unknown },
  who: string,
): Pick<DepthwiseConv2dConfig, 'kernelSize' | 'depthMultiplier' | 'strides' | 'padding'> {
  return {
    kernelSize: intTuple(options.kernelSize, 2, 'kernelSize', who) as [number, number],
    depthMultiplier: positiveInt(options.depthMultiplier ?? 1, 'depthMultiplier', who),
    strides: intTuple(options.strides ?? 1, 2, 'strides', who) as [number, number],
    padding: padding(options.padding, who),
  };
}

/**
 * Output shape `[h', w', channels · multiplier]` of a depthwise convolution
 * over `[height, width, channels]`, by Keras's conv_output_length; calls
 * `fail` with the expected shape when the input does not fit.
 */
export function depthwiseOutputShape(
  inputShape: Shape,
  c: Pick<DepthwiseConv2dConfig, 'kernelSize' | 'depthMultiplier' | 'strides' | 'padding'>,
  fail: (expected: string, actual: Shape) => never,
): number[] {
  if (inputShape.length !== 3) fail('(None, height, width, channels)', inputShape);
  const out = [0, 1].map((i) => convOutputLength(inputShape[i], c.kernelSize[i], c.strides[i], 1, c.padding));
  if (out.some((o) => o <= 0))
    fail(`(None, ≥${c.kernelSize[0]}, ≥${c.kernelSize[1]}, channels) for a ${c.kernelSize[0]}×${c.kernelSize[1]} valid kernel`, inputShape);
  return [out[0], out[1], inputShape[2] * c.depthMultiplier];
}

/**
 * Depthwise 2-D convolution over `[batch, height, width, channels]` (Keras's
 * `DepthwiseConv2D`): each input channel c is convolved on its own with
 * `depthMultiplier` kernels; output channel `c · depthMultiplier + m` is
 * channel c's m-th. Kernel `[kh, kw, channels, depthMultiplier]`, bias
 * `[channels · depthMultiplier]`. Glorot fans as Keras computes them from
 * the kernel shape: fanIn = kh·kw·channels, fanOut = kh·kw·depthMultiplier.
 */
export class DepthwiseConv2D extends Layer<'depthwiseConv2d'> {
  readonly kind = 'depthwiseConv2d';
  readonly className = 'DepthwiseConv2D';

  constructor(options: DepthwiseConv2dOptions) {
    const who = layerName(options?.name, 'depthwise_conv2d') ?? 'depthwise_conv2d';
    knownOptions(options, DEPTHWISE_OPTIONS, who);
    super(
      {
        ...depthwiseGeometry(options, who),
        useBias: bool(options.useBias, true, 'useBias', who),
        activation: resolveActivation(options.activation, who),
        ...depthwiseInitializers(options, who),
        ...depthwiseRegularizers(options, who),
      },
      options,
    );
  }

  computeOutputShape(inputShape: Shape): number[] {
    return depthwiseOutputShape(inputShape, this.config, (e, a) => this.shapeError(e, a));
  }

  override weightSpecs(inputShape: Shape): WeightSpec[] {
    const [kh, kw] = this.config.kernelSize;
    const cin = inputShape[2];
    const mult = this.config.depthMultiplier;
    const fanIn = kh * kw * cin;
    const fanOut = kh * kw * mult;
    const specs: WeightSpec[] = [
      {
        name: 'kernel',
        shape: [kh, kw, cin, mult],
        initializer: this.config.depthwiseInitializer,
        fanIn,
        fanOut,
        ...withRegularizer(this.config.depthwiseRegularizer),
      },
    ];
    if (this.config.useBias)
      specs.push({
        name: 'bias',
        shape: [cin * mult],
        initializer: this.config.biasInitializer,
        fanIn,
        fanOut,
        ...withRegularizer(this.config.biasRegularizer),
      });
    return specs;
  }

  override spatialMap(): SpatialMap {
    return { mode: 'conv', kernel: this.config.kernelSize, strides: this.config.strides, dilation: [1, 1] };
  }
}

/** Creates a {@link DepthwiseConv2D} layer. */
export function depthwiseConv2d(options: DepthwiseConv2dOptions): DepthwiseConv2D {
  return new DepthwiseConv2D(options);
}
