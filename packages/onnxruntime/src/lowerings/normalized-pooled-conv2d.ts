import { BackendError } from '@araboza/core';
import { intAttr, intsAttr, type Dim } from '../onnx-graph.js';
import { channelsFirstShape, emitChannelBiasGrad, emitInputTapRows } from './conv-common.js';
import { conv2dLowering } from './conv2d.js';
import {
  emitFoldedAffine,
  emitFoldedState,
  emitRowStatistics,
  emitVarianceGradTwice,
  foldedWeightGrads,
  foldedWeights,
  normalizedConv2dPlan,
  type NormalizedPlan,
  type NormalizedPlanContext,
} from './normalized-conv2d.js';
import {
  emitPhaseKernelGrads,
  emitPhaseKernels,
  emitPhaseMaximum,
  emitPhaseRowsToTaps,
  emitPhaseTreeGrads,
  MONOTONE_ACTIVATIONS,
  pooledConv2dPlan,
  type PooledPlan,
} from './pooled-conv2d.js';
import type { ForwardLowering, GradientRule, NodeOf } from './types.js';

/** How conv2d → batchNormalization → activation → maxPooling2d lower as one: the pooled phase convolutions and the fold. */
export interface NormalizedPooledPlan {
  /** The phase windows of the conv and pooling (see pooled-conv2d.ts). */
  readonly pooled: PooledPlan;
  /** The conv's own geometry, as the fold of the batch normalisation alone would use it (see normalized-conv2d.ts). */
  readonly normalized: NormalizedPlan;
}

/**
 * The plan of a conv2d, the batch normalisation reading it, a monotone
 * activation reading that and a max pooling reading the activation (each
 * the only reader of the one before), or null when the four are not
 * lowered as one: where the conv and batch normalisation fold
 * ({@link normalizedConv2dPlan}), the conv and pooling fuse
 * ({@link pooledConv2dPlan}), and the pooling windows tile the conv output
 * exactly (no row or column left out, so that the windows' statistics are
 * the whole conv output's).
 */
export function normalizedPooledConv2dPlan(
  conv: NodeOf<'conv2d'>,
  bn: NodeOf<'batchNormalization'>,
  activation: NodeOf<'activation'>,
  pool: NodeOf<'maxPooling2d'>,
  ctx: NormalizedPlanContext,
): NormalizedPooledPlan | null {
  if (!MONOTONE_ACTIVATIONS.has(activation.config.activation)) return null;
  const normalized = normalizedConv2dPlan(conv, bn, ctx);
  const pooled = normalized && pooledConv2dPlan(conv, pool, ctx.forTraining);
  if (!normalized || !pooled) return null;
  return pooled.g.output.every((o, i) => o * pooled.pool[i] === normalized.g.output[i]) ? { pooled, normalized } : null;
}

/**
 * Lowering of conv2d → training-mode batchNormalization → monotone
 * activation → max pooling in one, the pooling's phase convolutions
 * (pooled-conv2d.ts) run with the normalised kernel (normalized-conv2d.ts).
 * Each conv output is one phase's kernel rows K_φ (the kernel placed in the
 * pooling window at phase φ) times a window of the strided im2col, so with
 * μ_w and C_w the windows' mean and covariance, the batch mean of the conv is
 * the phases' mean of m_φ = K_φ·μ_w and its variance the phases' mean of
 * K_φ C_w K_φᵀ + (m_φ − mean)². The phases then run with the kernel rows
 * scaled by s = γ/√(σ² + ε), their maximum takes the offset β − mean·s (a
 * per-filter constant, and with s folded into the kernel before the maximum
 * a negative γ is exact), and the activation (applied by the caller)
 * commutes with the maximum. No full-size value is written: neither the conv
 * output, its normalisation, the activation nor MaxPool's `Indices`.
 * Returns the pooled pre-activation as `z`.
 */
export const normalizedPooledConv2dLowering: ForwardLowering<'normalizedPooledConv2d'> = {
  inputLayout: 'channelsFirst',
  weightPerms: (node) => [...conv2dLowering.weightPerms(node.conv), ...node.bn.weights.map(() => null)],
  emit({ b, provider }, { conv, bn, pool, plan }, [x], weights) {
    const p = plan.pooled;
    const f = p.filters;
    const w = foldedWeights(conv, bn, weights);
    const [ho, wo] = p.g.output;
    const positions = ho * wo;
    const phases = p.pool[0] * p.pool[1];
    const rowLength = p.cin * p.g.kernel[0] * p.g.kernel[1];
    const xRows = emitInputTapRows(b, x.name, p.g, p.cin, provider);
    const windows = emitRowStatistics(b, xRows, rowLength, positions, 'bnpool');
    // Every conv output is one phase of one window.
    const count = b.op('Mul', [windows.count, b.scalar(phases)], [], {}, 'bnpool_count');
    const { rows, matrix } = emitPhaseKernels(b, p, w.kernel, conv.name);
    const meanCol = b.op('Reshape', [windows.mean, b.ints([rowLength, 1])], [rowLength, 1], {}, 'bnpool_window_mean_col');
    const phaseMeans = b.op('MatMul', [rows, meanCol], [phases, f, 1], {}, 'bnpool_phase_means');
    const mean = b.op('ReduceMean', [phaseMeans], [f, 1], { axes: intsAttr([0]), keepdims: intAttr(0) }, 'bnpool_mean');
    const meanGap = b.op('Sub', [phaseMeans, mean], [phases, f, 1], {}, 'bnpool_mean_gap');
    const kernelCov = b.op('MatMul', [rows, windows.covariance], [phases, f, rowLength], {}, 'bnpool_kernel_cov');
    const quadratic = b.op(
      'ReduceSum',
      [b.op('Mul', [kernelCov, rows], [phases, f, rowLength], {}, 'bnpool_quadratic_terms'), b.ints([2])],
      [phases, f, 1],
      { keepdims: intAttr(1) },
      'bnpool_quadratic',
    );
    const perPhase = b.op(
      'Add',
      [quadratic, b.op('Mul', [meanGap, meanGap], [phases, f, 1], {}, 'bnpool_gap_squared')],
      [phases, f, 1],
      {},
      'bnpool_phase_var',
    );
    // Σ ≥ 0 up to rounding; clamped so that rounding never takes √(σ² + ε) below √ε.
    const variance = b.op(
      'Relu',
      [b.op('ReduceMean', [perPhase], [f, 1], { axes: intsAttr([0]), keepdims: intAttr(0) }, 'bnpool_var_raw')],
      [f, 1],
      {},
      'bnpool_var',
    );
    const { invStd, scale, offset } = emitFoldedAffine(b, bn, w, mean, variance, f);
    const scaledRows = b.op('Mul', [rows, scale], [phases, f, rowLength], {}, 'bnpool_kernel_scaled_rows');
    const tree = emitPhaseMaximum(b, p, scaledRows, xRows, `${bn.name}/phase_conv`, `${pool.name}/phase_max`);
    const z = b.op('Add', [tree.maximum, offset], ['N', f, positions], {}, `${pool.name}/offset`);
    return {
      z: {
        name: b.op('Reshape', [z, b.ints([0, f, ho, wo])], channelsFirstShape(f, p.g.output), {}, `${pool.name}/normalized_pooled_conv`),
        perSample: pool.outputShape,
        layout: 'channelsFirst',
      },
      saved: {
        ...tree.saved,
        xRows,
        place: matrix,
        kernelRows: rows,
        kernelCov,
        meanGap,
        meanRow: b.op('Reshape', [windows.mean, b.ints([1, rowLength])], [1, rowLength], {}, 'bnpool_window_mean_row'),
        mean,
        invStd,
        scale,
      },
      stateNext: emitFoldedState(b, conv, bn, w, mean, variance, count),
    };
  },
};

/**
 * Gradient of {@link normalizedPooledConv2dLowering}. dz (pooled,
 * pre-activation) walks the maximum's comparison tree back to the phases,
 * which give dK′_φ, the scaled kernel rows' gradients, and db′ = Σ dz, the
 * offset's. Then, with P phases, D = 2·dL/dσ² and through s = γ·r:
 * dL/ds = Σ_φ dK′_φ·K_φ − db′·mean, and per phase
 * dK_φ = s·dK′_φ + (D/P)·K_φC_w + ((D/P)·(m_φ − mean) − db′·s/P)·μ_wᵀ,
 * folded back onto the kernel's taps; dγ = r·dL/ds, dβ = db′, the conv's
 * bias an exact zero (the normalisation subtracts it again). The input
 * needs no gradient (see {@link normalizedConv2dPlan}).
 */
export const normalizedPooledConv2dGradient: GradientRule<'normalizedPooledConv2d'> = ({ b, node, forward, dZ, dZTotals, needInputGrad }) => {
  const { conv, bn, plan } = node;
  if (needInputGrad) throw new BackendError(`onnxruntime backend: ${conv.name} and ${bn.name} were folded though their input needs a gradient`);
  const p = plan.pooled;
  const f = p.filters;
  const saved = forward.saved!;
  const [ho, wo] = p.g.output;
  const phases = p.pool[0] * p.pool[1];
  const rowLength = p.cin * p.g.kernel[0] * p.g.kernel[1];
  const flat: Dim[] = ['N', f, ho * wo];
  const rowsShape = [phases, f, rowLength];
  const column: Dim[] = [f, 1];
  const phaseGrads = emitPhaseTreeGrads(b, saved, b.op('Reshape', [dZ, b.ints([0, f, ho * wo])], flat, {}, 'bnpool_dz'), phases, flat);
  const dScaledRows = b.op('Reshape', [emitPhaseKernelGrads(b, p, phaseGrads, saved.xRows), b.ints(rowsShape)], rowsShape, {}, 'bnpool_dk_scaled');
  const dOffset = emitChannelBiasGrad(b, dZTotals ?? dZ, 2, f);
  const dOffsetCol = b.op('Reshape', [dOffset, b.ints([f, 1])], column, {}, 'bnpool_doffset_col');
  const dScaleFromRows = b.op(
    'ReduceSum',
    [b.op('Mul', [dScaledRows, saved.kernelRows], rowsShape, {}, 'bnpool_ds_terms'), b.ints([0, 2])],
    [f],
    { keepdims: intAttr(0) },
    'bnpool_ds_rows',
  );
  const dScale = b.op(
    'Sub',
    [b.op('Reshape', [dScaleFromRows, b.ints([f, 1])], column, {}, 'bnpool_ds_rows_col'), b.op('Mul', [dOffsetCol, saved.mean], column, {}, 'bnpool_ds_mean')],
    column,
    {},
    'bnpool_ds',
  );
  const dVariancePerPhase = b.op('Div', [emitVarianceGradTwice(b, dScale, saved.scale, saved.invStd, f), b.scalar(phases)], column, {}, 'bnpool_dvar_phase');
  const dMeanPerPhase = b.op(
    'Div',
    [b.op('Mul', [dOffsetCol, saved.scale], column, {}, 'bnpool_doffset_scaled'), b.scalar(phases)],
    column,
    {},
    'bnpool_dmean_phase',
  );
  const meanCoefficient = b.op(
    'Sub',
    [b.op('Mul', [saved.meanGap, dVariancePerPhase], [phases, f, 1], {}, 'bnpool_dvar_gap'), dMeanPerPhase],
    [phases, f, 1],
    {},
    'bnpool_dk_mean_coefficient',
  );
  const dRows = b.op(
    'Add',
    [
      b.op(
        'Add',
        [
          b.op('Mul', [dScaledRows, saved.scale], rowsShape, {}, 'bnpool_dk_from_scaled'),
          b.op('Mul', [saved.kernelCov, dVariancePerPhase], rowsShape, {}, 'bnpool_dk_from_cov'),
        ],
        rowsShape,
        {},
        'bnpool_dk_partial',
      ),
      b.op('Mul', [meanCoefficient, saved.meanRow], rowsShape, {}, 'bnpool_dk_from_mean'),
    ],
    rowsShape,
    {},
    'bnpool_dk_rows',
  );
  const dKernel = emitPhaseRowsToTaps(b, p, dRows, saved.place);
  return { dXs: [null], dWeights: foldedWeightGrads(b, conv, bn, dKernel, dScale, saved.invStd, dOffset) };
};
