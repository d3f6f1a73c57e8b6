import type { ResolvedDevice } from '../device.js';
import { intAttr, intsAttr, type OnnxGraphBuilder } from '../onnx-graph.js';
import {
  channelsFirstShape,
  convAttrs,
  convGeometry,
  emitChannelBiasGrad,
  emitPerChannelConvTranspose,
  emitTapCopies,
  onnxPads,
  type ConvGeometry,
} from './conv-common.js';
import type { ForwardLowering, GradientRule, NodeOf } from './types.js';

/** Geometry of a depthwise step (kernel size, strides, padding of a depthwise or separable node). */
export function depthwiseGeometry(node: NodeOf<'depthwiseConv2d'> | NodeOf<'separableConv2d'>): ConvGeometry {
  const c = node.config;
  return convGeometry(node.inputShape.slice(0, 2), c.kernelSize, c.strides, [1, 1], c.padding);
}

/** The im2col of x per channel, `[N, channels, taps, positions]` (tap t of channel c at every output position). */
function channelTapRows(b: OnnxGraphBuilder, x: string, g: ConvGeometry, channels: number, provider: ResolvedDevice): string {
  const taps = g.kernel[0] * g.kernel[1];
  const positions = g.output[0] * g.output[1];
  const copies = emitTapCopies(
    b,
    x,
    channels,
    g.kernel,
    { strides: g.strides, dilations: g.dilations, pads: onnxPads(g), reversed: false },
    g.output,
    provider,
  );
  return b.op('Reshape', [copies, b.ints([0, channels, taps, positions])], ['N', channels, taps, positions], {}, 'depthwise_rows');
}

/**
 * A depthwise convolution, channels-first: x `[N, C, h, w]`, kernel in ONNX
 * layout `[C, mult, kh, kw]` (Keras `[kh, kw, C, mult]` permuted), output
 * `[N, C·mult, h', w']` with channel c·mult + m from channel c. On the CPU
 * and CUDA one Conv with group = C (kernel reshaped to `[C·mult, 1, kh, kw]`);
 * on WebGPU, whose grouped Conv gives wrong values for some shapes (see
 * {@link emitPerChannelConvTranspose}), the taps of each channel times its
 * kernels as one batched MatMul.
 */
export function emitDepthwiseForward(
  b: OnnxGraphBuilder,
  x: string,
  kernel: string,
  bias: string | null,
  g: ConvGeometry,
  channels: number,
  mult: number,
  provider: ResolvedDevice,
  hint: string,
): string {
  const outShape = channelsFirstShape(channels * mult, g.output);
  if (provider !== 'webgpu') {
    const grouped = b.op('Reshape', [kernel, b.ints([channels * mult, 1, ...g.kernel])], [channels * mult, 1, ...g.kernel], {}, 'depthwise_w_grouped');
    const attrs = convAttrs(2, { strides: g.strides, dilations: g.dilations, pads: onnxPads(g), group: channels });
    return b.op('Conv', bias ? [x, grouped, bias] : [x, grouped], outShape, attrs, hint);
  }
  const taps = g.kernel[0] * g.kernel[1];
  const positions = g.output[0] * g.output[1];
  const rows = channelTapRows(b, x, g, channels, provider);
  const kernelRows = b.op('Reshape', [kernel, b.ints([channels, mult, taps])], [channels, mult, taps], {}, 'depthwise_w_rows');
  const product = b.op('MatMul', [kernelRows, rows], ['N', channels, mult, positions], {}, `${hint}_rows`);
  let z = b.op('Reshape', [product, b.ints([0, channels * mult, ...g.output])], outShape, {}, hint);
  if (bias)
    z = b.op('Add', [z, b.op('Reshape', [bias, b.ints([channels * mult, 1, 1])], [channels * mult, 1, 1], {}, 'bias_column')], outShape, {}, `${hint}_bias`);
  return z;
}

/**
 * dLoss/dx (null when not asked for) and dLoss/dkernel (ONNX layout
 * `[C, mult, kh, kw]`) of {@link emitDepthwiseForward}, standard ops only and
 * the same on every provider. With rows the per-channel im2col of x
 * (`[N, C, taps, P]`) and dz as `[N, C, mult, P]`:
 * dW[c, m, t] = Σ_{n, p} dz[n, c, m, p]·rows[n, c, t, p], one batched MatMul
 * and a sum over the batch; the gradient of the rows is Wᵀ·dz per channel,
 * and dx scatters it back to the positions each tap read (col2im) with a
 * constant one-hot ConvTranspose ({@link emitPerChannelConvTranspose}, which
 * avoids grouped kernels on WebGPU).
 */
export function emitDepthwiseGrads(
  b: OnnxGraphBuilder,
  x: string,
  dZ: string,
  kernel: string,
  g: ConvGeometry,
  channels: number,
  mult: number,
  needInputGrad: boolean,
  provider: ResolvedDevice,
): { dX: string | null; dKernel: string } {
  const taps = g.kernel[0] * g.kernel[1];
  const positions = g.output[0] * g.output[1];
  const rows = channelTapRows(b, x, g, channels, provider);
  const dZRows = b.op('Reshape', [dZ, b.ints([0, channels, mult, positions])], ['N', channels, mult, positions], {}, 'depthwise_dz_rows');
  const rowsT = b.op('Transpose', [rows], ['N', channels, positions, taps], { perm: intsAttr([0, 1, 3, 2]) }, 'depthwise_rows_t');
  const perSample = b.op('MatMul', [dZRows, rowsT], ['N', channels, mult, taps], {}, 'depthwise_dw_each');
  const summed = b.op('ReduceSum', [perSample, b.ints([0])], [channels, mult, taps], { keepdims: intAttr(0) }, 'depthwise_dw_sum');
  const dKernel = b.op('Reshape', [summed, b.ints([channels, mult, ...g.kernel])], [channels, mult, ...g.kernel], {}, 'depthwise_dw');
  if (!needInputGrad) return { dX: null, dKernel };
  const kernelT = b.op(
    'Transpose',
    [b.op('Reshape', [kernel, b.ints([channels, mult, taps])], [channels, mult, taps], {}, 'depthwise_w_rows')],
    [channels, taps, mult],
    { perm: intsAttr([0, 2, 1]) },
    'depthwise_w_t',
  );
  const dRows = b.op('MatMul', [kernelT, dZRows], ['N', channels, taps, positions], {}, 'depthwise_drows');
  const dTaps = b.op('Reshape', [dRows, b.ints([0, channels * taps, ...g.output])], channelsFirstShape(channels * taps, g.output), {}, 'depthwise_dtaps');
  const oneHot = new Float32Array(taps * taps);
  for (let t = 0; t < taps; t++) oneHot[t * taps + t] = 1;
  const outputPadding = g.input.map((n, i) => n - ((g.output[i] - 1) * g.strides[i] + g.kernel[i] - g.before[i] - g.after[i]));
  const dX = emitPerChannelConvTranspose(
    b,
    dTaps,
    { shape: [taps, 1, ...g.kernel], data: oneHot },
    channels,
    { strides: g.strides, dilations: g.dilations, pads: onnxPads(g), outputPadding },
    g.input,
    provider,
    'depthwise_dx',
  );
  return { dX, dKernel };
}

/** depthwiseConv2d: {@link emitDepthwiseForward} in NCHW; kernel Keras `[kh, kw, C, mult]` ↔ ONNX `[C, mult, kh, kw]`. */
export const depthwiseConv2dLowering: ForwardLowering<'depthwiseConv2d'> = {
  inputLayout: 'channelsFirst',
  weightPerms: (node) => (node.config.useBias ? [[2, 3, 0, 1], null] : [[2, 3, 0, 1]]),
  emit({ b, provider }, node, [x], [kernel, bias]) {
    const cin = node.inputShape[2];
    const g = depthwiseGeometry(node);
    const z = emitDepthwiseForward(b, x.name, kernel, bias ?? null, g, cin, node.config.depthMultiplier, provider, `${node.name}/depthwise`);
    return { z: { name: z, perSample: node.outputShape, layout: 'channelsFirst' } };
  },
};

/** depthwiseConv2d gradient: {@link emitDepthwiseGrads}, and a sum for dbias. */
export const depthwiseConv2dGradient: GradientRule<'depthwiseConv2d'> = ({ b, node, xs: [x], weights, dZ, dZTotals, needInputGrad, provider }) => {
  const cin = node.inputShape[2];
  const mult = node.config.depthMultiplier;
  const grads = emitDepthwiseGrads(b, x.name, dZ, weights[0], depthwiseGeometry(node), cin, mult, needInputGrad, provider);
  const dWeights = [grads.dKernel];
  if (node.config.useBias) dWeights.push(emitChannelBiasGrad(b, dZTotals ?? dZ, 2, cin * mult));
  return { dXs: [grads.dX], dWeights };
};
