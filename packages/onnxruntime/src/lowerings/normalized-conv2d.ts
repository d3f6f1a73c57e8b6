import { BackendError, nodeUpdatesState } from '@araboza/core';
import type { ResolvedDevice } from '../device.js';
import { intAttr, intsAttr, type Dim, type OnnxGraphBuilder } from '../onnx-graph.js';
import { emitInverseStd, emitMovingStatistics } from './batch-normalization.js';
import { convGeometry, emitChannelBiasGrad, emitConvForward, emitConvGrads, emitInputTapRows, type ConvGeometry } from './conv-common.js';
import { conv2dLowering } from './conv2d.js';
import type { ForwardLowering, GradientRule, NodeOf } from './types.js';

/**
 * How a conv2d and the batch normalisation reading it lower as one
 * convolution: the conv's geometry, its input channels, its filters, and
 * the im2col row count (input channels × kernel taps).
 */
export interface NormalizedPlan {
  readonly g: ConvGeometry;
  readonly cin: number;
  readonly filters: number;
  readonly rows: number;
}

/** What decides whether a conv2d → batchNormalization pair is folded, beyond the pair itself. */
export interface NormalizedPlanContext {
  /** Whether a backward pass or a training-mode forward follows (batch statistics). */
  readonly forTraining: boolean;
  /** Whether the generated model returns gradients with respect to the model inputs. */
  readonly inputGradients: boolean;
  /** Whether the conv reads a model input directly. */
  readonly readsModelInput: boolean;
  /** The execution provider the model is generated for. */
  readonly provider: ResolvedDevice;
}

/**
 * The plan of `conv` followed by `bn` (its only reader), or null when the
 * pair is not folded. Folded: on the CPU, in models with batch statistics
 * (training, a trainable batch normalisation) that need no gradient with
 * respect to the conv's input (a conv reading a model input, in a model that
 * returns no input gradients: a training step's first layer), a 2-D conv
 * without activation whose im2col has at most as many rows as it has filters
 * (the statistics below cost rows² per position, the conv rows·filters), and
 * the batch normalisation's weights right after the conv's in graph order.
 */
export function normalizedConv2dPlan(conv: NodeOf<'conv2d'>, bn: NodeOf<'batchNormalization'>, ctx: NormalizedPlanContext): NormalizedPlan | null {
  if (!ctx.forTraining || ctx.inputGradients || !ctx.readsModelInput || ctx.provider !== 'cpu') return null;
  if (!nodeUpdatesState(bn) || conv.config.activation !== 'linear' || bn.weightIndex !== conv.weightIndex + conv.weights.length) return null;
  const c = conv.config;
  const cin = conv.inputShape[2];
  const rows = cin * c.kernelSize[0] * c.kernelSize[1];
  if (rows > c.filters) return null;
  return { g: convGeometry(conv.inputShape.slice(0, 2), c.kernelSize, c.strides, c.dilationRate, c.padding), cin, filters: c.filters, rows };
}

/**
 * Lowering of a conv2d whose only reader is a training-mode batch
 * normalisation, with the normalisation folded into the convolution: the
 * conv is linear in its input's patches p (the im2col rows), so with μₚ and
 * Σₚ the mean and covariance of the patches over the batch and positions,
 * each filter's batch mean is kᵀμₚ + b and its batch variance kᵀΣₚk. Σₚ is
 * one small matrix product of the centred im2col (rows² per position, as
 * accurate as a two-pass variance), so the normalised output comes from one
 * convolution with kernel k·s and bias β − kᵀμₚ·s (s = γ/√(σ² + ε); the conv's
 * bias cancels), with no pass over the full-size conv output for the
 * statistics, the centring, the scaling or, in the backward pass, the
 * normalisation's gradient. The next moving statistics are computed as
 * batchNormalization's lowering does. Returns the normalised output as `z`.
 */
export const normalizedConv2dLowering: ForwardLowering<'normalizedConv2d'> = {
  inputLayout: 'channelsFirst',
  weightPerms: (node) => [...conv2dLowering.weightPerms(node.conv), ...node.bn.weights.map(() => null)],
  emit({ b, provider }, { conv, bn, plan: p }, [x], weights) {
    const f = p.filters;
    const w = foldedWeights(conv, bn, weights);
    const kernel = w.kernel;
    const outSize = p.g.output.reduce((a, v) => a * v, 1);
    const xRows = emitInputTapRows(b, x.name, p.g, p.cin, provider);
    // Values per channel: the batch times the output positions, one patch each.
    const { count, mean: patchMean, covariance } = emitRowStatistics(b, xRows, p.rows, outSize, 'bnconv');
    const kernelRows = b.op('Reshape', [kernel, b.ints([f, p.rows])], [f, p.rows], {}, 'bnconv_kernel_rows');
    const meanRow = b.op('Reshape', [patchMean, b.ints([1, p.rows])], [1, p.rows], {}, 'bnconv_patch_mean_row');
    // kᵀμₚ per filter, as a [F, 1] column.
    const shift = b.op(
      'ReduceSum',
      [b.op('Mul', [kernelRows, meanRow], [f, p.rows], {}, 'bnconv_kernel_mean'), b.ints([1])],
      [f, 1],
      { keepdims: intAttr(1) },
      'bnconv_shift',
    );
    const kernelCov = b.op('MatMul', [kernelRows, covariance], [f, p.rows], {}, 'bnconv_kernel_cov');
    // kᵀΣₚk ≥ 0 up to rounding; clamped so that rounding never takes √(σ² + ε) below √ε.
    const variance = b.op(
      'Relu',
      [
        b.op(
          'ReduceSum',
          [b.op('Mul', [kernelCov, kernelRows], [f, p.rows], {}, 'bnconv_quadratic'), b.ints([1])],
          [f, 1],
          { keepdims: intAttr(1) },
          'bnconv_var_raw',
        ),
      ],
      [f, 1],
      {},
      'bnconv_var',
    );
    const { invStd, scale: s, offset } = emitFoldedAffine(b, bn, w, shift, variance, f);
    const scaledKernelRows = b.op('Mul', [kernelRows, s], [f, p.rows], {}, 'bnconv_kernel_scaled_rows');
    const scaledKernel = b.op(
      'Reshape',
      [scaledKernelRows, b.ints([f, p.cin, ...conv.config.kernelSize])],
      [f, p.cin, ...conv.config.kernelSize],
      {},
      'bnconv_kernel_scaled',
    );
    const bias = b.op('Reshape', [offset, b.ints([f])], [f], {}, 'bnconv_offset');
    const z = emitConvForward(b, x, scaledKernel, bias, p.g, f, `${bn.name}/normalized_conv`);
    const stateNext = emitFoldedState(b, conv, bn, w, shift, variance, count);
    return {
      z: { name: z, perSample: bn.outputShape, layout: 'channelsFirst' },
      saved: { xRows, kernelRows, kernelCov, meanRow, shift, invStd, scale: s, scaledKernel },
      stateNext,
    };
  },
};

/**
 * Gradient of {@link normalizedConv2dLowering}. With K′ = k·s and b′ = β − kᵀμₚ·s
 * the folded kernel and bias, dK′ (the im2col times dz) and db′ = Σ dz are a
 * plain convolution's weight gradients; then, through s = γ·r, r = 1/√(σ² + ε),
 * σ² = kᵀΣₚk: dL/ds = Σ dK′·k − db′·kᵀμₚ, dγ = r·dL/ds, dβ = db′,
 * dk = s·(dK′ − db′·μₚᵀ) + 2·(dL/dσ²)·Σₚk with dL/dσ² = −½·dL/ds·s·r²; the
 * conv's bias gets an exact zero (the normalisation subtracts it again),
 * the moving statistics zero (state weights). The input needs no gradient
 * (see {@link normalizedConv2dPlan}).
 */
export const normalizedConv2dGradient: GradientRule<'normalizedConv2d'> = ({ b, node, xs: [x], forward, dZ, dZTotals, needInputGrad, provider, convBlock }) => {
  const { conv, bn, plan: p } = node;
  if (needInputGrad) throw new BackendError(`onnxruntime backend: ${conv.name} and ${bn.name} were folded though their input needs a gradient`);
  const f = p.filters;
  const saved = forward.saved!;
  const column: Dim[] = [f, 1];
  const dScaledKernel = emitConvGrads(b, x.name, dZ, saved.scaledKernel, p.g, p.cin, f, false, provider, convBlock, saved.xRows).dKernel;
  const dScaledRows = b.op('Reshape', [dScaledKernel, b.ints([f, p.rows])], [f, p.rows], {}, 'bnconv_dk_scaled_rows');
  const dOffset = emitChannelBiasGrad(b, dZTotals ?? dZ, 2, f);
  const dOffsetCol = b.op('Reshape', [dOffset, b.ints([f, 1])], column, {}, 'bnconv_doffset_col');
  const dScale = b.op(
    'Sub',
    [
      b.op(
        'ReduceSum',
        [b.op('Mul', [dScaledRows, saved.kernelRows], [f, p.rows], {}, 'bnconv_ds_terms'), b.ints([1])],
        column,
        { keepdims: intAttr(1) },
        'bnconv_ds_kernel',
      ),
      b.op('Mul', [dOffsetCol, saved.shift], column, {}, 'bnconv_ds_shift'),
    ],
    column,
    {},
    'bnconv_ds',
  );
  const dVarianceTwice = emitVarianceGradTwice(b, dScale, saved.scale, saved.invStd, f);
  const fromScaled = b.op(
    'Mul',
    [
      b.op('Sub', [dScaledRows, b.op('Mul', [dOffsetCol, saved.meanRow], [f, p.rows], {}, 'bnconv_doffset_mean')], [f, p.rows], {}, 'bnconv_dk_centered'),
      saved.scale,
    ],
    [f, p.rows],
    {},
    'bnconv_dk_scaled',
  );
  const dKernelRows = b.op(
    'Add',
    [fromScaled, b.op('Mul', [dVarianceTwice, saved.kernelCov], [f, p.rows], {}, 'bnconv_dk_var')],
    [f, p.rows],
    {},
    'bnconv_dk_rows',
  );
  const dKernel = b.op('Reshape', [dKernelRows, b.ints([f, p.cin, ...conv.config.kernelSize])], [f, p.cin, ...conv.config.kernelSize], {}, 'bnconv_dk');
  const dWeights = foldedWeightGrads(b, conv, bn, dKernel, dScale, saved.invStd, dOffset);
  return { dXs: [null], dWeights };
};

/** A folded conv2d → batchNormalization pair's weights (ONNX value names), split by role; absent ones null. */
export interface FoldedWeights {
  readonly kernel: string;
  readonly convBias: string | null;
  readonly gamma: string | null;
  readonly beta: string | null;
  readonly movingMean: string;
  readonly movingVariance: string;
  /** The moving mean's index among the pair's weights (the moving variance follows it). */
  readonly stateIndex: number;
}

/** The conv's weights, then the batch normalisation's, as a fused node applies them. */
export function foldedWeights(conv: NodeOf<'conv2d'>, bn: NodeOf<'batchNormalization'>, weights: readonly string[]): FoldedWeights {
  let k = conv.weights.length;
  const gamma = bn.config.scale ? weights[k++] : null;
  const beta = bn.config.center ? weights[k++] : null;
  return {
    kernel: weights[0],
    convBias: conv.config.useBias ? weights[1] : null,
    gamma,
    beta,
    movingMean: weights[k],
    movingVariance: weights[k + 1],
    stateIndex: k,
  };
}

/**
 * The folded normalisation's per-filter `[F, 1]` values from the batch mean
 * of the conv without its bias (`mean`) and the batch variance: r = 1/√(σ² + ε),
 * the scale s = γ·r (r without γ) and the offset β − mean·s (the conv's bias cancels).
 */
export function emitFoldedAffine(
  b: OnnxGraphBuilder,
  bn: NodeOf<'batchNormalization'>,
  w: FoldedWeights,
  mean: string,
  variance: string,
  f: number,
): { invStd: string; scale: string; offset: string } {
  const invStd = emitInverseStd(b, variance, bn.config.epsilon, [f, 1], 'bnconv');
  const scale = w.gamma
    ? b.op('Mul', [invStd, b.op('Reshape', [w.gamma, b.ints([f, 1])], [f, 1], {}, 'bnconv_gamma_col')], [f, 1], {}, 'bnconv_scale')
    : invStd;
  const meanScaled = b.op('Mul', [mean, scale], [f, 1], {}, 'bnconv_shift_scaled');
  const offset = w.beta
    ? b.op('Sub', [b.op('Reshape', [w.beta, b.ints([f, 1])], [f, 1], {}, 'bnconv_beta_col'), meanScaled], [f, 1], {}, 'bnconv_offset_col')
    : b.op('Neg', [meanScaled], [f, 1], {}, 'bnconv_offset_col');
  return { invStd, scale, offset };
}

/**
 * The pair's next state per weight (null but the moving statistics) from the
 * batch mean of the conv without its bias and the biased batch variance
 * (`[F, 1]` each) over `count` values per filter.
 */
export function emitFoldedState(
  b: OnnxGraphBuilder,
  conv: NodeOf<'conv2d'>,
  bn: NodeOf<'batchNormalization'>,
  w: FoldedWeights,
  mean: string,
  variance: string,
  count: string,
): (string | null)[] {
  const f = conv.config.filters;
  const flatMean = b.op('Reshape', [mean, b.ints([f])], [f], {}, 'bnconv_shift_flat');
  const batchMean = w.convBias ? b.op('Add', [flatMean, w.convBias], [f], {}, 'bnconv_batch_mean') : flatMean;
  const next = emitMovingStatistics(
    b,
    bn,
    w.movingMean,
    w.movingVariance,
    batchMean,
    b.op('Reshape', [variance, b.ints([f])], [f], {}, 'bnconv_batch_var'),
    count,
  );
  const stateNext: (string | null)[] = [...conv.weights.map(() => null), ...bn.weights.map(() => null)];
  stateNext[w.stateIndex] = next.mean;
  stateNext[w.stateIndex + 1] = next.variance;
  return stateNext;
}

/** 2·dL/dσ² = −dL/ds·s·r² (s = γ·r, r = 1/√(σ² + ε)), `[F, 1]`. */
export function emitVarianceGradTwice(b: OnnxGraphBuilder, dScale: string, scale: string, invStd: string, f: number): string {
  const column: Dim[] = [f, 1];
  const sr2 = b.op('Mul', [scale, b.op('Mul', [invStd, invStd], column, {}, 'bnconv_r2')], column, {}, 'bnconv_s_r2');
  return b.op('Neg', [b.op('Mul', [dScale, sr2], column, {}, 'bnconv_dvar_neg')], column, {}, 'bnconv_dvar2');
}

/**
 * The pair's weight gradients in weight order from the kernel's, dL/ds
 * (`[F, 1]`) and the offset's (`[F]`): the conv's bias an exact zero (the
 * normalisation subtracts it again), dγ = r·dL/ds, dβ = the offset's, and
 * zeros for the moving statistics (state weights).
 */
export function foldedWeightGrads(
  b: OnnxGraphBuilder,
  conv: NodeOf<'conv2d'>,
  bn: NodeOf<'batchNormalization'>,
  dKernel: string,
  dScale: string,
  invStd: string,
  dOffset: string,
): string[] {
  const f = conv.config.filters;
  const dWeights = [dKernel];
  const zeros = b.floatConstant(`${bn.name}/zero_state_grad`, [f], new Float32Array(f));
  if (conv.config.useBias) dWeights.push(b.floatConstant(`${conv.name}/folded_bias_grad`, [f], new Float32Array(f)));
  if (bn.config.scale) dWeights.push(b.op('Reshape', [b.op('Mul', [dScale, invStd], [f, 1], {}, 'bnconv_dgamma_col'), b.ints([f])], [f], {}, 'bnconv_dgamma'));
  if (bn.config.center) dWeights.push(dOffset);
  dWeights.push(zeros, zeros);
  return dWeights;
}

/**
 * The mean `[1, R, 1]` and covariance `[R, R]` of an im2col's `[N, R, P]`
 * columns over the batch and positions, and their count N·P (a scalar):
 * the covariance as one Gram matrix of the centred columns, as accurate as
 * a two-pass variance.
 */
export function emitRowStatistics(
  b: OnnxGraphBuilder,
  xRows: string,
  rows: number,
  positions: number,
  hint: string,
): { count: string; mean: string; covariance: string } {
  const count = b.op(
    'Div',
    [b.op('Cast', [b.op('Size', [xRows], [], {}, `${hint}_size`)], [], { to: intAttr(1) }, `${hint}_size_f`), b.scalar(rows)],
    [],
    {},
    `${hint}_n`,
  );
  // Positions, then the batch: two contiguous reductions read faster than one over both (see batchNormalization's).
  const perSample = b.op('ReduceMean', [xRows], ['N', rows, 1], { axes: intsAttr([2]), keepdims: intAttr(1) }, `${hint}_patch_mean_each`);
  const mean = b.op('ReduceMean', [perSample], [1, rows, 1], { axes: intsAttr([0]), keepdims: intAttr(1) }, `${hint}_patch_mean`);
  const centered = b.op('Sub', [xRows, mean], ['N', rows, positions], {}, `${hint}_patch_centered`);
  const centeredCols = b.op('Transpose', [centered], ['N', positions, rows], { perm: intsAttr([0, 2, 1]) }, `${hint}_patch_cols`);
  const gramEach = b.op('MatMul', [centered, centeredCols], ['N', rows, rows], {}, `${hint}_gram_each`);
  const gram = b.op('ReduceSum', [gramEach, b.ints([0])], [rows, rows], { keepdims: intAttr(0) }, `${hint}_gram`);
  return { count, mean, covariance: b.op('Div', [gram, count], [rows, rows], {}, `${hint}_covariance`) };
}
