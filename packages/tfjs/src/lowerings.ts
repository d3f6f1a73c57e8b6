import * as tf from '@tensorflow/tfjs-core';
import {
  concatAxis,
  convAxisPadding,
  deconvAxisPadding,
  deconvOutputLength,
  layerNormAxis,
  type ActivationName,
  type GraphNode,
  type LayerKind,
  type Padding,
} from '@araboza/core';
import { applyActivation, splitFusedActivation } from './activations.js';
import { accurateSum } from './reductions.js';
import { batchNormalization, dropout, type LoweringContext } from './state-lowerings.js';

/**
 * One graph node lowered to tfjs ops on a batch (NHWC), with its weights
 * (Keras layout). `inputs` holds one tensor per node input, in the node's
 * order: a single one for every kind but the merge layers.
 */
export type Lowering<K extends LayerKind> = (
  inputs: readonly tf.Tensor[],
  node: Extract<GraphNode, { kind: K }>,
  weights: readonly tf.Tensor[],
  /** The activation to apply: the node's own, or `linear` when the loss wants its logits. */
  activation: ActivationName,
  /**
   * Training mode: gradients will be taken (fused kernels are used only when
   * not), batch normalisation uses batch statistics and dropout drops.
   */
  training: boolean,
  /** State updates and mask seeds (see {@link LoweringContext}). */
  ctx?: LoweringContext,
) => tf.Tensor;

/** The activation a node applies to its output (`linear` for kinds without one). */
export function nodeActivation(node: GraphNode): ActivationName {
  return 'activation' in node.config ? node.config.activation : 'linear';
}

type Pair = readonly [number, number];

/**
 * Whether Keras's `same` padding total, before clamping at 0, is negative on
 * some axis: the last window ends before the input does. Such a `same`
 * convolution pads nothing on that axis.
 */
function stepsPastEnd(x: tf.Tensor4D, kernel: tf.Tensor4D, strides: Pair): boolean {
  if (kernel.shape[0] * kernel.shape[1] === 1) return false;
  return [0, 1].some((a) => (Math.ceil(x.shape[a + 1] / strides[a]) - 1) * strides[a] + kernel.shape[a] - x.shape[a + 1] < 0);
}

/**
 * A 2-D convolution with Keras's semantics. tfjs's `same` padding is
 * Keras's (the larger half after). Dilated convolutions are rewritten as
 * space-to-batch → plain convolution → batch-to-space (as TensorFlow's atrous
 * convolution does), because tfjs has no gradient for dilation > 1; Keras
 * forbids stride and dilation both above 1, so the rewrite needs stride 1.
 */
function conv2dKeras(
  x: tf.Tensor4D,
  kernel: tf.Tensor4D,
  bias: tf.Tensor | undefined,
  strides: Pair,
  dilation: Pair,
  padding: Padding,
  activation: ActivationName,
  training: boolean,
): tf.Tensor {
  const { fused, after } = splitFusedActivation(activation);
  const plain = dilation[0] === 1 && dilation[1] === 1;
  if (plain && padding === 'same' && stepsPastEnd(x, kernel, strides)) {
    // tfjs-backend-wasm 4.22 (XNNPACK) returns zeros for a `same` convolution whose
    // last stride step starts past the input's end (tfjs#8405); explicit Keras
    // padding and a `valid` convolution give the same result on every engine.
    const pads = [0, 1].map((a) => {
      const { before, after: end } = convAxisPadding(x.shape[a + 1], kernel.shape[a], strides[a], 1, 'same');
      return [before, end] as [number, number];
    });
    return conv2dKeras(tf.pad(x, [[0, 0], pads[0], pads[1], [0, 0]]), kernel, bias, strides, dilation, 'valid', activation, training);
  }
  if (plain && training) {
    // One-channel convolutions stay unfused: on wasm they take araboza's faster depthwise Conv2D (kernels/register.ts).
    const oneChannel = kernel.shape[2] === 1 || kernel.shape[3] === 1;
    if (bias && !oneChannel && after === 'linear' && OUTPUT_DERIVATIVES[activation]) return fusedConvForTraining(x, kernel, bias, strides, padding, activation);
    return biasActivation(tf.conv2d(x, kernel, [strides[0], strides[1]], padding), bias, activation);
  }
  if (plain) {
    const y = tf.fused.conv2d({ x, filter: kernel, strides: [strides[0], strides[1]], pad: padding, bias, activation: fused });
    return applyActivation(y, after);
  }
  let input = x;
  if (padding === 'same') {
    // Explicit Keras padding makes the dilated convolution a valid one.
    const pads = [0, 1].map((a) => {
      const { before, after } = convAxisPadding(x.shape[a + 1], kernel.shape[a], 1, dilation[a], 'same');
      return [before, after] as [number, number];
    });
    input = tf.pad(x, [[0, 0], pads[0], pads[1], [0, 0]]);
  }
  const [h, w] = [input.shape[1], input.shape[2]];
  const extra = [0, 1].map((a) => Math.ceil([h, w][a] / dilation[a]) * dilation[a] - [h, w][a]);
  const phases = tf.spaceToBatchND(
    input,
    [dilation[0], dilation[1]],
    [
      [0, extra[0]],
      [0, extra[1]],
    ],
  ) as tf.Tensor4D;
  const conv = tf.conv2d(phases, kernel, 1, 'valid');
  const y = tf.batchToSpaceND(
    conv,
    [dilation[0], dilation[1]],
    [
      [0, extra[0]],
      [0, extra[1]],
    ],
  );
  return biasActivation(y, bias, activation);
}

/**
 * dLoss/dBias from the gradient at the biased output: a sum over every axis
 * but the last, as average pools (×count). An average pool sums a window per
 * channel over contiguous NHWC rows (XNNPACK on wasm), where tfjs's sum over
 * leading axes transposes first on wasm, and a matrix product with a row of
 * ones makes XNNPACK pack the whole gradient as weights on every call (~10×
 * slower than the pools for an autoencoder's 28×28×16 layer). Two stages
 * (within a sample, then over the batch) keep the float32 sums short.
 */
function biasGrad(g: tf.Tensor, channels: number): tf.Tensor {
  const rows = g.size / channels;
  if (channels === 1) return tf.reshape(accurateSum(g), [1]);
  const batch = g.shape[0]!;
  const inner = rows / batch;
  let perSample = tf.reshape(g, [batch, inner, 1, channels]) as tf.Tensor4D;
  if (inner > 1) perSample = tf.avgPool(perSample, [inner, 1], 1, 'valid');
  const mean = batch > 1 ? tf.avgPool(tf.reshape(perSample, [1, batch, 1, channels]) as tf.Tensor4D, [batch, 1], 1, 'valid') : perSample;
  return tf.reshape(tf.mul(mean, rows), [channels]);
}

/** Activations whose derivative is a function of their output, so bias and activation share one gradient. */
const OUTPUT_DERIVATIVES: Partial<Record<ActivationName, (dy: tf.Tensor, y: tf.Tensor) => tf.Tensor>> = {
  linear: (dy) => dy,
  // y > 0 exactly when the input is > 0: the gradient at 0 is 0, as in TensorFlow.
  relu: (dy, y) => tf.mul(dy, tf.step(y)),
  sigmoid: (dy, y) => tf.mul(dy, tf.mul(y, tf.sub(1, y))),
  tanh: (dy, y) => tf.mul(dy, tf.sub(1, tf.square(y))),
};

/**
 * activation(z + bias) for training, with one hand-written gradient for both
 * (from the activation's output, so nothing else is saved); tfjs's would
 * reduce the bias gradient with a sum that transposes first on wasm.
 */
export function biasActivation(z: tf.Tensor, bias: tf.Tensor | undefined, activation: ActivationName): tf.Tensor {
  const derivative = OUTPUT_DERIVATIVES[activation];
  if (!bias) return applyActivation(z, activation);
  if (!derivative) return applyActivation(biasActivation(z, bias, 'linear'), activation);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const y = applyActivation(tf.add(input, b), activation);
    save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, [out]: tf.Tensor[]) => {
        const g = derivative(dy, out);
        return [g, biasGrad(g, b.shape[0]!)];
      },
    };
  });
  return op(z, bias);
}

/**
 * activation(conv2d(x, kernel) + bias) for training as one fused convolution
 * (XNNPACK adds the bias and clamps for relu as it stores each result, where
 * a separate Add and Relu each pass over the output again), with its
 * gradient written out: from the activation's output as in
 * {@link biasActivation}, then the convolution's two gradient kernels, as
 * tfjs's own Conv2D gradient runs them. Only for activations the fused
 * kernel applies itself and whose derivative is known from the output, and
 * more than one input and output channel (see {@link conv2dKeras}).
 */
function fusedConvForTraining(x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor, strides: Pair, padding: Padding, activation: ActivationName): tf.Tensor {
  const derivative = OUTPUT_DERIVATIVES[activation]!;
  const fused = splitFusedActivation(activation).fused;
  const stride: [number, number] = [strides[0], strides[1]];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, w, b, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.GradSaveFunc];
    // The kernel itself: tf.fused.conv2d unfuses any activation but linear while gradients are recorded.
    const y = tf.engine().runKernel('FusedConv2D', { x: input, filter: w, bias: b }, {
      strides: stride,
      pad: padding,
      dataFormat: 'NHWC',
      dilations: [1, 1],
      activation: fused,
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
    save([input, w, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, [xs, ws, out]: tf.Tensor[]) => {
        const g = derivative(dy, out) as tf.Tensor4D;
        const dx = tf.conv2dTranspose(g, ws as tf.Tensor4D, xs.shape as [number, number, number, number], stride, padding);
        const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x: xs, dy: g }, {
          strides: stride,
          pad: padding,
          dataFormat: 'NHWC',
          filterShape: ws.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
        return [dx, dw, biasGrad(g, b.shape[0])];
      },
    };
  });
  return op(x, kernel, bias);
}

/**
 * Nearest-neighbour upsampling by integer factors: tfjs's resize kernel
 * forward, and as gradient the sum of each sh×sw block of dy. tfjs's own
 * `ResizeNearestNeighborGrad` is not used: its cpu kernel is wrong for odd
 * sizes (7×7 → 14×14), and a tile-based upsampling is far slower on wasm.
 */
function upSampleNearest(x: tf.Tensor4D, size: readonly [number, number]): tf.Tensor {
  const [sh, sw] = size;
  const [, h, w] = x.shape;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor4D;
    return {
      value: tf.image.resizeNearestNeighbor(input, [h * sh, w * sw], false, false),
      // The block sum as an average pool (XNNPACK on wasm) times the block size.
      gradFunc: (dy: tf.Tensor) => tf.mul(tf.avgPool(dy as tf.Tensor4D, [sh, sw], [sh, sw], 'valid'), sh * sw),
    };
  });
  return op(x);
}

/**
 * The mean over the rows and columns of an NHWC tensor, with a cheaper
 * gradient than tfjs's `Mean` one, which fills a tensor of ones of x's shape
 * in JS, multiplies dy into it and divides by the count (a full-size
 * temporary per step). Here dy / count (the same float32 quotients) is
 * copied to every pixel by a nearest-neighbour resize from 1×1, which wasm
 * runs natively (its broadcastTo goes through slow generic code).
 */
function globalAveragePool2d(x: tf.Tensor4D, keepdims: boolean): tf.Tensor {
  const [batch, h, w, channels] = x.shape;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor4D;
    return {
      value: tf.mean(input, [1, 2], keepdims),
      gradFunc: (dy: tf.Tensor) => tf.image.resizeNearestNeighbor(tf.reshape(tf.div(dy, h * w), [batch, 1, 1, channels]) as tf.Tensor4D, [h, w]),
    };
  });
  return op(x);
}

/**
 * Average pooling whose `same` padding is excluded from the mean (Keras),
 * forward and gradient. tfjs's forward excludes it, but its `AvgPoolGrad`
 * (cpu and wasm) divides every window by the full pool size; scaling dy by
 * pool size / valid count first makes that kernel's result exact.
 */
function averagePoolKeras(x: tf.Tensor4D, pool: Pair, strides: Pair, padding: Padding): tf.Tensor {
  if (padding === 'valid') return tf.avgPool(x, [pool[0], pool[1]], [strides[0], strides[1]], 'valid');
  const counts = [0, 1].map((a) => {
    const { before, out } = convAxisPadding(x.shape[a + 1], pool[a], strides[a], 1, 'same');
    return Array.from({ length: out }, (_, o) => {
      const start = o * strides[a] - before;
      return Math.min(start + pool[a], x.shape[a + 1]) - Math.max(start, 0);
    });
  });
  const scale = Float32Array.from(counts[0].flatMap((ch) => counts[1].map((cw) => (pool[0] * pool[1]) / (ch * cw))));
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor4D;
    return {
      value: tf.avgPool(input, [pool[0], pool[1]], [strides[0], strides[1]], 'same'),
      gradFunc: (dy: tf.Tensor) =>
        tf
          .engine()
          .runKernel(
            'AvgPoolGrad',
            { dy: tf.mul(dy, tf.tensor4d(scale, [1, counts[0].length, counts[1].length, 1])), input },
            { filterSize: [pool[0], pool[1]], strides: [strides[0], strides[1]], pad: 'same' },
          ) as tf.Tensor,
    };
  });
  return op(x);
}

/**
 * The element-wise maximum or minimum of several tensors, reduced pairwise
 * from the left. tfjs's Maximum/Minimum gradient (tfjs-core, the same on
 * every engine) gives a tie wholly to the first operand (`>=`/`<=`, as
 * TensorFlow), so a left fold gives a tie among any inputs to the
 * lowest-index one, TensorFlow's rule for Keras's merge layers.
 */
function tiedToFirst(xs: readonly tf.Tensor[], pair: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): tf.Tensor {
  return xs.slice(1).reduce((acc, x) => pair(acc, x), xs[0]);
}

/**
 * The maximum over `axes` with TensorFlow's `reduce_max` gradient: dy split
 * evenly among the tied maxima. tfjs's own max gradient gives every tied
 * element the whole dy.
 */
function maxSplittingTies(x: tf.Tensor, axes: number[], keepDims: boolean): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const kept = tf.max(input, axes, true);
    save([input, kept]);
    return {
      value: keepDims ? kept : tf.max(input, axes, false),
      gradFunc: (dy: tf.Tensor, [inp, max]: tf.Tensor[]) => {
        const ties = tf.cast(tf.equal(inp, max), 'float32');
        const share = tf.div(tf.reshape(dy, max.shape), tf.sum(ties, axes, true));
        return tf.mul(ties, share);
      },
    };
  });
  return op(x);
}

/**
 * A depthwise convolution with Keras's semantics (no bias, no activation):
 * kernel `[kh, kw, channels, multiplier]`, output channel c·multiplier + m.
 * Lowered as one plain convolution per input channel (kernel
 * `[kh, kw, 1, multiplier]`), concatenated: tfjs-backend-wasm has no
 * gradient kernels for DepthwiseConv2dNative, while every engine has
 * conv2d's (on wasm a one-input-channel Conv2D runs as XNNPACK's depthwise
 * kernel, see kernels/register.ts).
 */
function depthwiseConvKeras(x: tf.Tensor4D, kernel: tf.Tensor4D, strides: Pair, padding: Padding, training: boolean): tf.Tensor {
  const channels = x.shape[3];
  if (channels === 1) return conv2dKeras(x, kernel, undefined, strides, [1, 1], padding, 'linear', training);
  const xs = tf.split(x, channels, 3) as tf.Tensor4D[];
  const ks = tf.split(kernel, channels, 2) as tf.Tensor4D[];
  return tf.concat(
    xs.map((xc, c) => conv2dKeras(xc, ks[c], undefined, strides, [1, 1], padding, 'linear', training)),
    3,
  );
}

/**
 * Layer normalization over one axis (of the batched input): the biased
 * variance, as Keras's `ops.moments`, then gamma and beta reshaped to
 * broadcast along the other axes.
 */
function layerNormKeras(x: tf.Tensor, axis: number, epsilon: number, gamma: tf.Tensor | undefined, beta: tf.Tensor | undefined): tf.Tensor {
  const mean = tf.mean(x, axis, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), axis, true);
  let y = tf.mul(centred, tf.rsqrt(tf.add(variance, epsilon)));
  const broadcast = x.shape.map((n, i) => (i === axis ? n : 1));
  if (gamma) y = tf.mul(y, tf.reshape(gamma, broadcast));
  if (beta) y = tf.add(y, tf.reshape(beta, broadcast));
  return y;
}

/**
 * The forward of every core layer kind with tfjs ops. Typed by `LayerKind`,
 * so a kind added to core without a lowering here is a compile-time error.
 */
export const LOWERINGS: { readonly [K in LayerKind]: Lowering<K> } = {
  dense: ([x], node, [kernel, bias], activation, training) => {
    const inner = x.shape[x.shape.length - 1];
    const rows = x.rank === 2 ? (x as tf.Tensor2D) : (tf.reshape(x, [-1, inner]) as tf.Tensor2D);
    const useBias = node.config.useBias;
    let y: tf.Tensor;
    if (training) {
      y = biasActivation(tf.matMul(rows, kernel as tf.Tensor2D), useBias ? bias : undefined, activation);
    } else {
      const { fused, after } = splitFusedActivation(activation);
      y = applyActivation(tf.fused.matMul({ a: rows, b: kernel as tf.Tensor2D, bias: useBias ? bias : undefined, activation: fused }), after);
    }
    return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), node.config.units]);
  },
  conv1d: ([x], node, [kernel, bias], activation, training) => {
    const c = node.config;
    // A 1-D convolution is a 2-D one over a height of 1 (Keras same padding adds nothing on that axis).
    const x4 = tf.expandDims(x, 1) as tf.Tensor4D;
    const k4 = tf.expandDims(kernel, 0) as tf.Tensor4D;
    const y = conv2dKeras(x4, k4, c.useBias ? bias : undefined, [1, c.strides], [1, c.dilationRate], c.padding, activation, training);
    return tf.squeeze(y, [1]);
  },
  conv2d: ([x], node, [kernel, bias], activation, training) => {
    const c = node.config;
    return conv2dKeras(x as tf.Tensor4D, kernel as tf.Tensor4D, c.useBias ? bias : undefined, c.strides, c.dilationRate, c.padding, activation, training);
  },
  conv2dTranspose: ([x], node, [kernel, bias], activation) => {
    const c = node.config;
    const [oh, ow, filters] = node.outputShape;
    // tfjs's conv2dTranspose is the input gradient of a conv2d over the Keras output shape; that conv2d's
    // padding (valid, or same with its smaller half before) is exactly Keras's crop (core's deconvAxisPadding).
    const [kh, kw] = c.kernelSize;
    if (c.padding === 'same' && kh * kw > 1 && (c.strides[0] > kh || c.strides[1] > kw)) {
      // The gradient of a `same` transposed convolution with stride > kernel is a `same`
      // convolution that tfjs-backend-wasm 4.22 gets wrong (tfjs#8405); a `valid` one,
      // cropped to Keras's output (core's deconvAxisPadding), has a `valid` gradient.
      const [h, w] = [x.shape[1]!, x.shape[2]!];
      const full = [0, 1].map((a) => deconvOutputLength([h, w][a], c.kernelSize[a], c.strides[a], 'valid'));
      const valid = tf.conv2dTranspose(x as tf.Tensor4D, kernel as tf.Tensor4D, [x.shape[0], full[0], full[1], filters], [c.strides[0], c.strides[1]], 'valid');
      const begin = [0, 1].map((a) => Math.max(deconvAxisPadding([h, w][a], c.kernelSize[a], c.strides[a], 'same').before, 0));
      const y = tf.slice(valid, [0, begin[0], begin[1], 0], [-1, oh, ow, filters]);
      return biasActivation(y, c.useBias ? bias : undefined, activation);
    }
    const y = tf.conv2dTranspose(x as tf.Tensor4D, kernel as tf.Tensor4D, [x.shape[0], oh, ow, filters], [c.strides[0], c.strides[1]], c.padding);
    return biasActivation(y, c.useBias ? bias : undefined, activation);
  },
  maxPooling2d: ([x], node) => {
    const c = node.config;
    return tf.maxPool(x as tf.Tensor4D, [c.poolSize[0], c.poolSize[1]], [c.strides[0], c.strides[1]], c.padding);
  },
  averagePooling2d: ([x], node) => averagePoolKeras(x as tf.Tensor4D, node.config.poolSize, node.config.strides, node.config.padding),
  upSampling2d: ([x], node) => upSampleNearest(x as tf.Tensor4D, node.config.size),
  flatten: ([x]) => tf.reshape(x, [x.shape[0], -1]),
  reshape: ([x], node) => tf.reshape(x, [x.shape[0]!, ...node.outputShape]),
  activation: ([x], _node, _weights, activation) => applyActivation(x, activation),
  add: (xs) => (xs.length === 2 ? tf.add(xs[0], xs[1]) : tf.addN([...xs])),
  subtract: ([a, b]) => tf.sub(a, b),
  multiply: (xs) => xs.slice(1).reduce((acc, x) => tf.mul(acc, x), xs[0]),
  // Keras sums, then divides by the count.
  average: (xs) => tf.div(xs.length === 2 ? tf.add(xs[0], xs[1]) : tf.addN([...xs]), xs.length),
  maximum: (xs) => tiedToFirst(xs, tf.maximum),
  minimum: (xs) => tiedToFirst(xs, tf.minimum),
  concatenate: (xs, node) => tf.concat([...xs], concatAxis(node.config.axis, node.inputShape.length, node.name) + 1),
  // tfjs's LeakyRelu gradient is dy·slope for x ≤ 0: leakyRelu′(0) is the slope, as TensorFlow's.
  leakyRelu: ([x], node) => tf.leakyRelu(x, node.config.negativeSlope),
  zeroPadding2d: ([x], node) => {
    const [rows, cols] = node.config.padding;
    return tf.pad(x, [
      [0, 0],
      [rows[0], rows[1]],
      [cols[0], cols[1]],
      [0, 0],
    ]);
  },
  cropping2d: ([x], node) => {
    const [[top], [left]] = node.config.cropping;
    return tf.slice(x, [0, top, left, 0], [-1, ...node.outputShape]);
  },
  globalAveragePooling2d: ([x], node) => globalAveragePool2d(x as tf.Tensor4D, node.config.keepdims),
  globalMaxPooling2d: ([x], node) => maxSplittingTies(x, [1, 2], node.config.keepdims),
  globalAveragePooling1d: ([x], node) => tf.mean(x, [1], node.config.keepdims),
  globalMaxPooling1d: ([x], node) => maxSplittingTies(x, [1], node.config.keepdims),
  // The 1-D kinds are the 2-D ones over an image of height 1.
  maxPooling1d: ([x], node) => {
    const c = node.config;
    return tf.squeeze(tf.maxPool(tf.expandDims(x, 1) as tf.Tensor4D, [1, c.poolSize], [1, c.strides], c.padding), [1]);
  },
  averagePooling1d: ([x], node) => {
    const c = node.config;
    return tf.squeeze(averagePoolKeras(tf.expandDims(x, 1) as tf.Tensor4D, [1, c.poolSize], [1, c.strides], c.padding), [1]);
  },
  upSampling1d: ([x], node) => tf.squeeze(upSampleNearest(tf.expandDims(x, 1) as tf.Tensor4D, [1, node.config.size]), [1]),
  depthwiseConv2d: ([x], node, [kernel, bias], activation, training) => {
    const c = node.config;
    const z = depthwiseConvKeras(x as tf.Tensor4D, kernel as tf.Tensor4D, c.strides, c.padding, training);
    return biasActivation(z, c.useBias ? bias : undefined, activation);
  },
  separableConv2d: ([x], node, [depthwise, pointwise, bias], activation, training) => {
    const c = node.config;
    const z = depthwiseConvKeras(x as tf.Tensor4D, depthwise as tf.Tensor4D, c.strides, c.padding, training);
    return conv2dKeras(z as tf.Tensor4D, pointwise as tf.Tensor4D, c.useBias ? bias : undefined, [1, 1], [1, 1], 'valid', activation, training);
  },
  layerNormalization: ([x], node, weights) => {
    const c = node.config;
    const axis = layerNormAxis(c.axis, node.inputShape.length) + 1;
    const gamma = c.scale ? weights[0] : undefined;
    const beta = c.center ? weights[c.scale ? 1 : 0] : undefined;
    return layerNormKeras(x, axis, c.epsilon, gamma, beta);
  },
  batchNormalization: ([x], node, weights, _activation, training, ctx) => batchNormalization(x, node, weights, training, ctx),
  dropout: ([x], node, _weights, _activation, training, ctx) => dropout(x, node.config, node.config.noiseShape, training, ctx),
  spatialDropout2d: ([x], node, _weights, _activation, training, ctx) => dropout(x, node.config, [1, 1, node.inputShape[2]], training, ctx),
};

/** Runs one node's lowering (the table lookup, typed for any kind). */
export function lowerNode(
  inputs: readonly tf.Tensor[],
  node: GraphNode,
  weights: readonly tf.Tensor[],
  activation: ActivationName,
  training: boolean,
  ctx?: LoweringContext,
): tf.Tensor {
  return (LOWERINGS[node.kind] as Lowering<LayerKind>)(inputs, node as never, weights, activation, training, ctx);
}
