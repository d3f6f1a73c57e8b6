import { convAxisPadding, deconvAxisPadding, type Padding } from '@araboza/core';
import type { ResolvedDevice } from '../device.js';
import type { Value } from '../layout.js';
import { blocksConv } from '../nchwc.js';
import { intAttr, intsAttr, type Attribute, type Dim, type OnnxGraphBuilder } from '../onnx-graph.js';
import { emitAccurateSum } from '../reductions.js';

/** Geometry of a convolution along its spatial axes (1 or 2 of them). */
export interface ConvGeometry {
  readonly input: readonly number[];
  readonly output: readonly number[];
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** Padding before each axis (Keras puts the smaller half here). */
  readonly before: readonly number[];
  /** Padding after each axis. */
  readonly after: readonly number[];
}

/** Geometry of a convolution or pooling, by Keras's padding rules. */
export function convGeometry(
  input: readonly number[],
  kernel: readonly number[],
  strides: readonly number[],
  dilations: readonly number[],
  padding: Padding,
): ConvGeometry {
  const axes = input.map((n, i) => convAxisPadding(n, kernel[i], strides[i], dilations[i], padding));
  return { input, output: axes.map((a) => a.out), kernel, strides, dilations, before: axes.map((a) => a.before), after: axes.map((a) => a.after) };
}

/** ONNX pads attribute: every axis's start, then every axis's end. */
export function onnxPads(g: { before: readonly number[]; after: readonly number[] }): number[] {
  return [...g.before, ...g.after];
}

/**
 * Conv/ConvTranspose attributes with every default written out (strides
 * and dilations 1, pads 0, group 1, no output padding): ONNX Runtime Web's
 * WebGPU provider rejects a Conv without `dilations`, and the generated
 * models are checked for them (model-check.ts).
 */
export function convAttrs(
  spatialRank: number,
  given: { strides?: readonly number[]; dilations?: readonly number[]; pads?: readonly number[]; group?: number; outputPadding?: readonly number[] },
  transposed = false,
): Record<string, Attribute> {
  const ones = Array.from({ length: spatialRank }, () => 1);
  const attrs: Record<string, Attribute> = {
    strides: intsAttr(given.strides ?? ones),
    dilations: intsAttr(given.dilations ?? ones),
    pads: intsAttr(given.pads ?? [...ones, ...ones].map(() => 0)),
    group: intAttr(given.group ?? 1),
  };
  if (transposed) attrs.output_padding = intsAttr(given.outputPadding ?? ones.map(() => 0));
  return attrs;
}

/** `[N, channels, ...spatial]`. */
export function channelsFirstShape(channels: number | Dim, spatial: readonly number[], batch: Dim = 'N'): Dim[] {
  return [batch, channels, ...spatial];
}

/** Forward convolution (ONNX Conv, kernel `[O, C, ...k]`), output channels-first. */
export function emitConvForward(b: OnnxGraphBuilder, x: Value, kernel: string, bias: string | null, g: ConvGeometry, filters: number, hint: string): string {
  return b.op(
    'Conv',
    bias ? [x.name, kernel, bias] : [x.name, kernel],
    channelsFirstShape(filters, g.output),
    convAttrs(g.input.length, { strides: g.strides, dilations: g.dilations, pads: onnxPads(g) }),
    hint,
  );
}

/** Reverses the spatial axes of a `[a, b, ...spatial]` tensor (a kernel flip). */
function flipSpatial(b: OnnxGraphBuilder, value: string, shape: readonly Dim[]): string {
  const axes = shape.slice(2).map((_, i) => i + 2);
  // Slice with step −1 from the last element to before the first (INT64_MIN as the end).
  return b.op(
    'Slice',
    [value, b.ints(axes.map(() => -1)), b.ints(axes.map(() => Number.MIN_SAFE_INTEGER)), b.ints(axes), b.ints(axes.map(() => -1))],
    shape,
    {},
    'flip',
  );
}

/**
 * dLoss/dx of a convolution. With stride 1 and fewer filters than input
 * channels, or `preferConv` (a Conv that will run on blocked kernels), it is
 * a Conv of dz with the flipped, transposed kernel (its
 * im2col holds `filters·k²` rows where ConvTranspose's col2im holds
 * `channels·k²`); otherwise ConvTranspose of dz with the same kernel and the
 * forward pads, output_padding restoring input rows a `valid` stride never
 * reached (their gradient is zero).
 */
export function emitConvInputGrad(
  b: OnnxGraphBuilder,
  dZ: string,
  kernel: string,
  g: ConvGeometry,
  channels: number,
  filters: number,
  preferConv = false,
): string {
  const reach = g.kernel.map((k, i) => (k - 1) * g.dilations[i]);
  if (g.strides.every((s) => s === 1) && (filters < channels || preferConv)) {
    const flipped = flipSpatial(b, kernel, [filters, channels, ...g.kernel]);
    const swapped = b.op(
      'Transpose',
      [flipped],
      [channels, filters, ...g.kernel],
      { perm: intsAttr([1, 0, ...g.kernel.map((_, i) => i + 2)]) },
      'conv_w_flipped',
    );
    return b.op(
      'Conv',
      [dZ, swapped],
      channelsFirstShape(channels, g.input),
      convAttrs(g.input.length, {
        dilations: g.dilations,
        pads: [...reach.map((r, i) => r - g.before[i]), ...g.input.map((n, i) => n - g.output[i] + g.before[i])],
      }),
      'conv_dx',
    );
  }
  const outputPadding = g.input.map((n, i) => n - ((g.output[i] - 1) * g.strides[i] + reach[i] + 1 - g.before[i] - g.after[i]));
  return b.op(
    'ConvTranspose',
    [dZ, kernel],
    channelsFirstShape(channels, g.input),
    convAttrs(g.input.length, { strides: g.strides, dilations: g.dilations, pads: onnxPads(g), outputPadding }, true),
    'conv_dx',
  );
}

/** dLoss/dx (null when not asked for) and dLoss/dkernel of a convolution. */
export interface ConvGrads {
  readonly dX: string | null;
  readonly dKernel: string;
}

/**
 * Which im2col {@link emitConvGrads} builds: true for the taps of x
 * (`[N, C·k, P]`, see {@link emitInputTapRows}), false for the shifted
 * copies of dz (stride 1 only), whichever writes and reads fewer elements.
 */
export function convGradsReplicateInput(g: ConvGeometry, channels: number, filters: number, needInputGrad: boolean): boolean {
  const taps = g.kernel.reduce((a, v) => a * v, 1);
  const inSize = g.input.reduce((a, v) => a * v, 1);
  const outSize = g.output.reduce((a, v) => a * v, 1);
  // Elements each im2col path writes and reads; the x path's dx builds a second one (Conv's im2col or ConvTranspose's col2im).
  const costDxIm2col = needInputGrad ? taps * Math.min(channels * outSize, filters * inSize) : 0;
  const costXReplicated = taps * channels * outSize + filters * outSize + costDxIm2col;
  const costDzReplicated = taps * filters * inSize + channels * inSize;
  return !(g.strides.every((v) => v === 1) && costDzReplicated < costXReplicated);
}

/**
 * The im2col of a convolution's input: `[N, C·k, P]`, row c·k + t holding
 * tap t of channel c at every output position (the padded positions zero).
 * The kernel gradient multiplies it with dz; a forward pass can multiply
 * it with the kernel (see {@link emitConvForwardFromRows}).
 */
export function emitInputTapRows(b: OnnxGraphBuilder, x: string, g: ConvGeometry, channels: number, provider: ResolvedDevice): string {
  const taps = g.kernel.reduce((a, v) => a * v, 1);
  const outSize = g.output.reduce((a, v) => a * v, 1);
  const views = emitTapCopies(b, x, channels, g.kernel, { strides: g.strides, dilations: g.dilations, pads: onnxPads(g), reversed: false }, g.output, provider);
  return b.op('Reshape', [views, b.ints([0, channels * taps, outSize])], ['N', channels * taps, outSize], {}, 'conv_x_rows');
}

/**
 * A convolution's output from its input's im2col ({@link emitInputTapRows}):
 * the kernel as `[O, C·k]` times the rows, plus the bias, as `[N, O, ...out]`.
 */
export function emitConvForwardFromRows(
  b: OnnxGraphBuilder,
  rows: string,
  kernel: string,
  bias: string | null,
  g: ConvGeometry,
  channels: number,
  filters: number,
  hint: string,
): string {
  const taps = g.kernel.reduce((a, v) => a * v, 1);
  const outSize = g.output.reduce((a, v) => a * v, 1);
  const kernelRows = b.op('Reshape', [kernel, b.ints([filters, channels * taps])], [filters, channels * taps], {}, 'conv_w_rows');
  let z = b.op('MatMul', [kernelRows, rows], ['N', filters, outSize], {}, `${hint}_rows`);
  if (bias) z = b.op('Add', [z, b.op('Reshape', [bias, b.ints([filters, 1])], [filters, 1], {}, 'bias_column')], ['N', filters, outSize], {}, `${hint}_bias`);
  return b.op('Reshape', [z, b.ints([0, filters, ...g.output])], channelsFirstShape(filters, g.output), {}, hint);
}

/**
 * dLoss/dx and dLoss/dkernel of a convolution (kernel `[O, C, ...k]`).
 * dW[o, c, t] = Σ_{n, p} dz[n, o, p]·xpad[n, c, p·s + t·d] is one batched
 * MatMul over an explicit im2col (ONNX Runtime's own Conv-based formulation
 * copies rows as short as the kernel, which is several times slower), built
 * by one grouped Conv with a constant one-hot kernel (see {@link emitTapCopies}).
 * Of the two im2cols, the cheaper is used:
 * - dz replicated (stride 1 only): k shifted, zero-padded copies of dz at
 *   x's positions, `[N, O·k, I]`, times x transposed to `[N, I, C]` (x's
 *   padding is zero, so its positions are all the sum needs). The same
 *   copies are the im2col of dx = Σ_{o,t} W[o, c, t]·dz[i + before − t·d],
 *   which is then one MatMul of the kernel as `[C, O·k]` with them, instead
 *   of a Conv building that im2col a second time (unless the Conv runs on
 *   blocked kernels, `convBlock`: then dx is that Conv);
 * - x replicated: the k strided taps of the padded x, `[N, C·k, P]`, times dz
 *   transposed to `[N, P, O]`; dx is then {@link emitConvInputGrad}'s.
 *   Always this one when the forward pass already built those taps (`xRows`).
 * The choice is {@link convGradsReplicateInput}'s. The sum over the batch is a ReduceSum; the result is reordered to `[O, C, ...k]`.
 */
export function emitConvGrads(
  b: OnnxGraphBuilder,
  x: string,
  dZ: string,
  kernel: string,
  g: ConvGeometry,
  channels: number,
  filters: number,
  needInputGrad: boolean,
  provider: ResolvedDevice,
  convBlock: number,
  xRows?: string,
): ConvGrads {
  const spatialRank = g.input.length;
  // dx as a Conv the NCHWc rewrite runs blocked (see GradientContext.convBlock): cheaper than the im2col's MatMul or a ConvTranspose.
  const blocked = g.kernel.length === 2 && g.strides.every((v) => v === 1) && blocksConv(filters, channels, convBlock);
  const taps = g.kernel.reduce((a, v) => a * v, 1);
  const inSize = g.input.reduce((a, v) => a * v, 1);
  const outSize = g.output.reduce((a, v) => a * v, 1);
  const kernelAxes = g.kernel.map((_, i) => i + 2);
  if (!xRows && !convGradsReplicateInput(g, channels, filters, needInputGrad)) {
    // Only x's own positions i matter (its padding is zero): copy t there is dz[i + before − t·d],
    // a one-hot Conv over dz with the taps reversed, padded by reach − before and reach − after.
    const reach = g.kernel.map((k, i) => (k - 1) * g.dilations[i]);
    const pads = [...reach.map((r, i) => r - g.before[i]), ...reach.map((r, i) => r - g.after[i])];
    const shifted = emitTapCopies(b, dZ, filters, g.kernel, { strides: g.strides, dilations: g.dilations, pads, reversed: true }, g.input, provider);
    const rows = b.op('Reshape', [shifted, b.ints([0, filters * taps, inSize])], ['N', filters * taps, inSize], {}, 'conv_dz_rows');
    const xFlat = b.op('Reshape', [x, b.ints([0, channels, inSize])], ['N', channels, inSize], {}, 'conv_x_flat');
    const xCols = b.op('Transpose', [xFlat], ['N', inSize, channels], { perm: intsAttr([0, 2, 1]) }, 'conv_x_cols');
    const perSample = b.op('MatMul', [rows, xCols], ['N', filters * taps, channels], {}, 'conv_dw_each');
    const summed = b.op('ReduceSum', [perSample, b.ints([0])], [filters * taps, channels], { keepdims: intAttr(0) }, 'conv_dw_sum');
    const grid = b.op('Reshape', [summed, b.ints([filters, ...g.kernel, channels])], [filters, ...g.kernel, channels], {}, 'conv_dw_grid');
    // [O, ...k, C] → [O, C, ...k]
    const dKernel = b.op(
      'Transpose',
      [grid],
      [filters, channels, ...g.kernel],
      { perm: intsAttr([0, spatialRank + 1, ...kernelAxes.map((a) => a - 1)]) },
      'conv_dw',
    );
    if (!needInputGrad) return { dX: null, dKernel };
    if (blocked) return { dX: emitConvInputGrad(b, dZ, kernel, g, channels, filters, true), dKernel };
    // [O, C, ...k] → [C, O, ...k] → [C, O·k], the row order of the copies.
    const swapped = b.op('Transpose', [kernel], [channels, filters, ...g.kernel], { perm: intsAttr([1, 0, ...kernelAxes]) }, 'conv_w_co');
    const kernelRows = b.op('Reshape', [swapped, b.ints([channels, filters * taps])], [channels, filters * taps], {}, 'conv_w_rows');
    const dXRows = b.op('MatMul', [kernelRows, rows], ['N', channels, inSize], {}, 'conv_dx_rows');
    return { dX: b.op('Reshape', [dXRows, b.ints([0, channels, ...g.input])], channelsFirstShape(channels, g.input), {}, 'conv_dx'), dKernel };
  }
  const rows = xRows ?? emitInputTapRows(b, x, g, channels, provider);
  const dzRows = b.op('Reshape', [dZ, b.ints([0, filters, outSize])], ['N', filters, outSize], {}, 'conv_dz_rows');
  const dzCols = b.op('Transpose', [dzRows], ['N', outSize, filters], { perm: intsAttr([0, 2, 1]) }, 'conv_dz_cols');
  const perSample = b.op('MatMul', [rows, dzCols], ['N', channels * taps, filters], {}, 'conv_dw_each');
  const summed = b.op('ReduceSum', [perSample, b.ints([0])], [channels * taps, filters], { keepdims: intAttr(0) }, 'conv_dw_sum');
  const grid = b.op('Reshape', [summed, b.ints([channels, ...g.kernel, filters])], [channels, ...g.kernel, filters], {}, 'conv_dw_grid');
  // [C, ...k, O] → [O, C, ...k]
  const dKernel = b.op(
    'Transpose',
    [grid],
    [filters, channels, ...g.kernel],
    { perm: intsAttr([spatialRank + 1, 0, ...kernelAxes.map((a) => a - 1)]) },
    'conv_dw',
  );
  return { dX: needInputGrad ? emitConvInputGrad(b, dZ, kernel, g, channels, filters, blocked) : null, dKernel };
}

/**
 * The k = Πkernel windowed copies of a channels-first value (an im2col) as
 * one Conv with group = channels and a constant one-hot kernel
 * `[channels·k, 1, ...kernel]`: output channel c·k + t is tap t of channel
 * c (tap k−1−t when `reversed`). Each output is one input element times 1
 * plus zeros, so the copies are exact for finite values (an infinite or NaN
 * element makes its neighbours' copies NaN, but then the loss is not finite
 * either). ONNX Runtime runs the one Conv faster than k Slices and a Concat
 * (measured on the MNIST autoencoder: about a tenth of a training step).
 * On WebGPU the channels go into the batch axis instead and the Conv has
 * one group (see {@link emitPerChannelConvTranspose} for why).
 */
export function emitTapCopies(
  b: OnnxGraphBuilder,
  value: string,
  channels: number,
  kernel: readonly number[],
  conv: { strides: readonly number[]; dilations: readonly number[]; pads: readonly number[]; reversed: boolean },
  spatial: readonly number[],
  provider: ResolvedDevice,
): string {
  const taps = kernel.reduce((a, v) => a * v, 1);
  const attrs = { strides: conv.strides, dilations: conv.dilations, pads: conv.pads };
  const folded = provider === 'webgpu' && channels > 1;
  const kernelChannels = folded ? 1 : channels;
  const oneHot = new Float32Array(kernelChannels * taps * taps);
  for (let c = 0; c < kernelChannels; c++) for (let t = 0; t < taps; t++) oneHot[(c * taps + t) * taps + (conv.reversed ? taps - 1 - t : t)] = 1;
  const weights = b.op(
    'Mul',
    [b.floatConstant('tap_one_hot', [kernelChannels * taps, 1, ...kernel], oneHot), runtimeOne(b, value)],
    [kernelChannels * taps, 1, ...kernel],
    {},
    'tap_kernel',
  );
  if (!folded) return b.op('Conv', [value, weights], ['N', channels * taps, ...spatial], convAttrs(kernel.length, { ...attrs, group: channels }), 'conv_taps');
  const inSpatial = b.shapeOf(value).slice(2) as number[];
  const single = b.op('Reshape', [value, b.ints([-1, 1, ...inSpatial])], [`N*${channels}`, 1, ...inSpatial], {}, 'tap_channels_in_batch');
  const copies = b.op('Conv', [single, weights], [`N*${channels}`, taps, ...spatial], convAttrs(kernel.length, attrs), 'conv_taps_each');
  return b.op('Reshape', [copies, b.ints([-1, channels * taps, ...spatial])], ['N', channels * taps, ...spatial], {}, 'conv_taps');
}

/**
 * A transposed convolution applying the same constant kernel to each of
 * `channels` groups of `perGroup` input channels (one output channel per
 * group): `x` is `[N, channels·perGroup, ...in]`, `kernel` the
 * `[perGroup, 1, ...k]` kernel of one group. On the CPU and CUDA one
 * ConvTranspose with group = channels; on WebGPU the groups go into the
 * batch axis and the ConvTranspose has one group: ONNX Runtime 1.30's WebGPU
 * Conv and ConvTranspose give wrong values for some grouped shapes (measured
 * on SwiftShader: a 3×3 grouped Conv with 2 or 4 groups, a 2×2 grouped
 * ConvTranspose with 2 groups, each off by O(1)).
 */
export function emitPerChannelConvTranspose(
  b: OnnxGraphBuilder,
  x: string,
  kernel: { readonly shape: readonly number[]; readonly data: Float32Array },
  channels: number,
  attrs: { strides: readonly number[]; dilations: readonly number[]; pads: readonly number[]; outputPadding: readonly number[] },
  outSpatial: readonly number[],
  provider: ResolvedDevice,
  hint: string,
): string {
  const [perGroup, , ...k] = kernel.shape;
  if (provider !== 'webgpu' || channels === 1) {
    const repeated = new Float32Array(channels * kernel.data.length);
    for (let c = 0; c < channels; c++) repeated.set(kernel.data, c * kernel.data.length);
    const weights = b.floatConstant(`${hint}_kernel`, [channels * perGroup, 1, ...k], repeated);
    return b.op('ConvTranspose', [x, weights], channelsFirstShape(channels, outSpatial), convAttrs(k.length, { ...attrs, group: channels }, true), hint);
  }
  const inSpatial = b.shapeOf(x).slice(2) as number[];
  const groups = b.op('Reshape', [x, b.ints([-1, perGroup, ...inSpatial])], [`N*${channels}`, perGroup, ...inSpatial], {}, `${hint}_groups_in_batch`);
  const weights = b.floatConstant(`${hint}_kernel`, [perGroup, 1, ...k], kernel.data);
  const each = b.op('ConvTranspose', [groups, weights], [`N*${channels}`, 1, ...outSpatial], convAttrs(k.length, attrs, true), `${hint}_each`);
  return b.op('Reshape', [each, b.ints([-1, channels, ...outSpatial])], channelsFirstShape(channels, outSpatial), {}, hint);
}

const runtimeOnes = new WeakMap<OnnxGraphBuilder, string>();

/**
 * The float 1 as a value computed at run time (from the size of `value`,
 * any value with a dynamic batch axis): a constant kernel times it is no
 * longer constant, which keeps ONNX Runtime from running a one-channel
 * tap Conv in its blocked layout: its reorder back to NCHW costs more than
 * the blocked Conv saves (measured for the MNIST autoencoder's input taps,
 * bench/RESULTS.md).
 */
function runtimeOne(b: OnnxGraphBuilder, value: string): string {
  let one = runtimeOnes.get(b);
  if (!one) {
    const positive = b.op('Greater', [b.op('Size', [value], [], {}, 'size'), b.ints([0])], [1], {}, 'size_positive');
    one = b.op('Cast', [positive], [1], { to: intAttr(1) }, 'runtime_one');
    runtimeOnes.set(b, one);
  }
  return one;
}

/** Slices `[a, b, ...spatial]` to its first `to[i]` elements along each spatial axis (no-op when equal). */
export function cropSpatial(b: OnnxGraphBuilder, value: string, lead: readonly Dim[], from: readonly number[], to: readonly number[]): string {
  if (from.every((n, i) => n === to[i])) return value;
  const axes = to.map((_, i) => i + 2);
  return b.op('Slice', [value, b.ints(to.map(() => 0)), b.ints(to), b.ints(axes)], [...lead, ...to], {}, 'crop');
}

/** dLoss/dbias of a channels-first layer: dz summed over batch and spatial axes. */
export function emitChannelBiasGrad(b: OnnxGraphBuilder, dZ: string, spatialRank: number, filters: number): string {
  const axes = [0, ...Array.from({ length: spatialRank }, (_, i) => i + 2)];
  return emitAccurateSum(b, dZ, b.shapeOf(dZ), axes, [filters], 'bias_grad');
}

/** Geometry of a transposed convolution (Keras's deconv_output_length and crop). */
export interface DeconvGeometry {
  readonly input: readonly number[];
  readonly output: readonly number[];
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  /** Cropped before each axis of the full transposed output. */
  readonly before: readonly number[];
  /** Cropped after (≥ 0). */
  readonly after: readonly number[];
  /** Zeros appended after when Keras's output is longer than the full result (`valid` with k < s). */
  readonly extra: readonly number[];
}

/** Geometry of a transposed convolution by Keras's rules. */
export function deconvGeometry(input: readonly number[], kernel: readonly number[], strides: readonly number[], padding: Padding): DeconvGeometry {
  const axes = input.map((n, i) => deconvAxisPadding(n, kernel[i], strides[i], padding));
  return {
    input,
    output: axes.map((a) => a.out),
    kernel,
    strides,
    before: axes.map((a) => a.before),
    after: axes.map((a) => Math.max(a.after, 0)),
    extra: axes.map((a) => Math.max(-a.after, 0)),
  };
}
