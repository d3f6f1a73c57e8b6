import { convAxisPadding, deconvAxisPadding, type Padding } from '@araboza/core';
import type { Value } from '../layout.js';
import { intAttr, intsAttr, type Dim, type OnnxGraphBuilder } from '../onnx-graph.js';

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
export function convGeometry(input: readonly number[], kernel: readonly number[], strides: readonly number[], dilations: readonly number[], padding: Padding): ConvGeometry {
  const axes = input.map((n, i) => convAxisPadding(n, kernel[i], strides[i], dilations[i], padding));
  return { input, output: axes.map((a) => a.out), kernel, strides, dilations, before: axes.map((a) => a.before), after: axes.map((a) => a.after) };
}

/** ONNX pads attribute: every axis's start, then every axis's end. */
export function onnxPads(g: { before: readonly number[]; after: readonly number[] }): number[] {
  return [...g.before, ...g.after];
}

/** `[N, channels, ...spatial]`. */
export function channelsFirstShape(channels: number | Dim, spatial: readonly number[], batch: Dim = 'N'): Dim[] {
  return [batch, channels, ...spatial];
}

/** Forward convolution (ONNX Conv, kernel `[O, C, ...k]`), output channels-first. */
export function emitConvForward(b: OnnxGraphBuilder, x: Value, kernel: string, bias: string | null, g: ConvGeometry, filters: number, hint: string): string {
  return b.op('Conv', bias ? [x.name, kernel, bias] : [x.name, kernel], channelsFirstShape(filters, g.output), {
    strides: intsAttr(g.strides),
    dilations: intsAttr(g.dilations),
    pads: intsAttr(onnxPads(g)),
  }, hint);
}

/** Reverses the spatial axes of a `[a, b, ...spatial]` tensor (a kernel flip). */
function flipSpatial(b: OnnxGraphBuilder, value: string, shape: readonly Dim[]): string {
  const axes = shape.slice(2).map((_, i) => i + 2);
  // Slice with step −1 from the last element to before the first (INT64_MIN as the end).
  return b.op('Slice', [value, b.ints(axes.map(() => -1)), b.ints(axes.map(() => Number.MIN_SAFE_INTEGER)), b.ints(axes), b.ints(axes.map(() => -1))], shape, {}, 'flip');
}

/**
 * dLoss/dx of a convolution. With stride 1 and fewer filters than input
 * channels it is a Conv of dz with the flipped, transposed kernel (its
 * im2col holds `filters·k²` rows where ConvTranspose's col2im holds
 * `channels·k²`); otherwise ConvTranspose of dz with the same kernel and the
 * forward pads, output_padding restoring input rows a `valid` stride never
 * reached (their gradient is zero).
 */
export function emitConvInputGrad(b: OnnxGraphBuilder, dZ: string, kernel: string, g: ConvGeometry, channels: number, filters: number): string {
  const reach = g.kernel.map((k, i) => (k - 1) * g.dilations[i]);
  if (g.strides.every((s) => s === 1) && filters < channels) {
    const flipped = flipSpatial(b, kernel, [filters, channels, ...g.kernel]);
    const swapped = b.op('Transpose', [flipped], [channels, filters, ...g.kernel], { perm: intsAttr([1, 0, ...g.kernel.map((_, i) => i + 2)]) }, 'conv_w_flipped');
    return b.op('Conv', [dZ, swapped], channelsFirstShape(channels, g.input), {
      dilations: intsAttr(g.dilations),
      pads: intsAttr([...reach.map((r, i) => r - g.before[i]), ...g.input.map((n, i) => n - g.output[i] + g.before[i])]),
    }, 'conv_dx');
  }
  const outputPadding = g.input.map((n, i) => n - ((g.output[i] - 1) * g.strides[i] + reach[i] + 1 - g.before[i] - g.after[i]));
  return b.op('ConvTranspose', [dZ, kernel], channelsFirstShape(channels, g.input), {
    strides: intsAttr(g.strides),
    dilations: intsAttr(g.dilations),
    pads: intsAttr(onnxPads(g)),
    output_padding: intsAttr(outputPadding),
  }, 'conv_dx');
}

/**
 * dLoss/dkernel of a convolution, dW[o, c, t] = Σ_{n, p} dz[n, o, p]·xpad[n, c, p·s + t·d],
 * as one batched MatMul over an explicit im2col built from k shifted views
 * (ONNX Runtime's own Conv-based formulation copies rows as short as the
 * kernel, which is several times slower). Of the two views, the cheaper is used:
 * - x replicated: k strided slices of the padded x, concatenated to
 *   `[N, k·C, P]`, times dz transposed to `[N, P, O]`;
 * - dz replicated (stride 1 only): k shifted, zero-padded copies of dz,
 *   `[N, k·O, U]`, times the padded x transposed to `[N, U, C]`.
 * The sum over the batch is a ReduceSum; the result is reordered to `[O, C, ...k]`.
 */
export function emitConvKernelGrad(b: OnnxGraphBuilder, x: string, dZ: string, g: ConvGeometry, channels: number, filters: number): string {
  const spatialRank = g.input.length;
  const taps = kernelTaps(g.kernel);
  const padded = g.input.map((n, i) => n + g.before[i] + g.after[i]);
  const outSize = g.output.reduce((a, v) => a * v, 1);
  const paddedSize = padded.reduce((a, v) => a * v, 1);
  const costXReplicated = taps.length * channels * outSize + filters * outSize;
  const costDzReplicated = taps.length * filters * paddedSize + 2 * channels * paddedSize;
  const needsPad = g.before.some((v) => v > 0) || g.after.some((v) => v > 0);
  const xPadded = needsPad
    ? b.op('Pad', [x, b.ints([0, 0, ...g.before, 0, 0, ...g.after])], ['N', channels, ...padded], {}, 'conv_x_pad')
    : x;
  const kernelOrder = [...g.kernel];
  if (g.strides.every((v) => v === 1) && costDzReplicated < costXReplicated) {
    // dz padded once by the kernel's reach on both sides; tap t is the window starting at reach − t·d.
    const reach = g.kernel.map((k, i) => (k - 1) * g.dilations[i]);
    const wide = b.op('Pad', [dZ, b.ints([0, 0, ...reach, 0, 0, ...reach])], ['N', filters, ...g.output.map((n, i) => n + 2 * reach[i])], {}, 'conv_dz_wide');
    const axes = b.ints(g.kernel.map((_, i) => i + 2));
    const shifted = taps.map((t) => {
      const starts = t.map((v, i) => reach[i] - v * g.dilations[i]);
      return b.op('Slice', [wide, b.ints(starts), b.ints(starts.map((v, i) => v + padded[i])), axes], ['N', filters, ...padded], {}, 'conv_dz_shift');
    });
    const stacked = b.op('Concat', shifted, ['N', taps.length * filters, ...padded], { axis: intAttr(1) }, 'conv_dz_taps');
    const rows = b.op('Reshape', [stacked, b.ints([0, taps.length * filters, paddedSize])], ['N', taps.length * filters, paddedSize], {}, 'conv_dz_rows');
    const xRows = b.op('Reshape', [xPadded, b.ints([0, channels, paddedSize])], ['N', channels, paddedSize], {}, 'conv_x_rows');
    const xCols = b.op('Transpose', [xRows], ['N', paddedSize, channels], { perm: intsAttr([0, 2, 1]) }, 'conv_x_cols');
    const perSample = b.op('MatMul', [rows, xCols], ['N', taps.length * filters, channels], {}, 'conv_dw_each');
    const summed = b.op('ReduceSum', [perSample, b.ints([0])], [taps.length * filters, channels], { keepdims: intAttr(0) }, 'conv_dw_sum');
    const grid = b.op('Reshape', [summed, b.ints([...kernelOrder, filters, channels])], [...kernelOrder, filters, channels], {}, 'conv_dw_grid');
    // [...k, O, C] → [O, C, ...k]
    return b.op('Transpose', [grid], [filters, channels, ...g.kernel], { perm: intsAttr([spatialRank, spatialRank + 1, ...kernelOrder.map((_, i) => i)]) }, 'conv_dw');
  }
  const views = taps.map((t) => {
    const starts = t.map((v, i) => v * g.dilations[i]);
    const ends = starts.map((v, i) => v + (g.output[i] - 1) * g.strides[i] + 1);
    const axes = t.map((_, i) => i + 2);
    return b.op('Slice', [xPadded, b.ints(starts), b.ints(ends), b.ints(axes), b.ints(g.strides)], ['N', channels, ...g.output], {}, 'conv_x_tap');
  });
  const stacked = views.length === 1 ? views[0] : b.op('Concat', views, ['N', taps.length * channels, ...g.output], { axis: intAttr(1) }, 'conv_x_taps');
  const rows = b.op('Reshape', [stacked, b.ints([0, taps.length * channels, outSize])], ['N', taps.length * channels, outSize], {}, 'conv_x_rows');
  const dzRows = b.op('Reshape', [dZ, b.ints([0, filters, outSize])], ['N', filters, outSize], {}, 'conv_dz_rows');
  const dzCols = b.op('Transpose', [dzRows], ['N', outSize, filters], { perm: intsAttr([0, 2, 1]) }, 'conv_dz_cols');
  const perSample = b.op('MatMul', [rows, dzCols], ['N', taps.length * channels, filters], {}, 'conv_dw_each');
  const summed = b.op('ReduceSum', [perSample, b.ints([0])], [taps.length * channels, filters], { keepdims: intAttr(0) }, 'conv_dw_sum');
  const grid = b.op('Reshape', [summed, b.ints([...kernelOrder, channels, filters])], [...kernelOrder, channels, filters], {}, 'conv_dw_grid');
  // [...k, C, O] → [O, C, ...k]
  return b.op('Transpose', [grid], [filters, channels, ...g.kernel], { perm: intsAttr([spatialRank + 1, spatialRank, ...kernelOrder.map((_, i) => i)]) }, 'conv_dw');
}

/** Every kernel position, row-major (the order of the Keras kernel's leading axes). */
function kernelTaps(kernel: readonly number[]): number[][] {
  let taps: number[][] = [[]];
  for (const k of kernel) taps = taps.flatMap((t) => Array.from({ length: k }, (_, i) => [...t, i]));
  return taps;
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
  return b.op('ReduceSum', [dZ, b.ints(axes)], [filters], { keepdims: intAttr(0) }, 'bias_grad');
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
