import { nodeUpdatesState } from '@araboza/core';
import { layoutAxis, layoutShape, type Value } from '../layout.js';
import { floatAttr, intAttr, intsAttr, type Dim, type OnnxGraphBuilder } from '../onnx-graph.js';
import type { ForwardLowering, GradientRule, LoweredForward, NodeOf } from './types.js';

type BnNode = NodeOf<'batchNormalization'>;

/** Where x's channels are and the shapes per-channel values take to broadcast against it. */
interface ChannelGeometry {
  /** x's full shape (batch axis first) in its layout. */
  readonly shape: Dim[];
  readonly channels: number;
  /** The full-rank axis of the channels. */
  readonly axis: number;
  /** Every other axis (the batch axis included): what the statistics reduce over. */
  readonly reduced: number[];
  /** A reduction's result with keepdims: 1s but the channel axis. */
  readonly kept: Dim[];
  /** A `[channels]` weight reshaped to broadcast against x: `[C, 1, …]` with one 1 per axis after the channels. */
  readonly broadcast: number[];
}

function channelGeometry(x: Value): ChannelGeometry {
  const rank = x.perSample.length;
  const shape = layoutShape(x.perSample, x.layout);
  const channels = x.perSample[rank - 1];
  const axis = layoutAxis(rank, rank - 1, x.layout);
  return {
    shape,
    channels,
    axis,
    reduced: shape.map((_, i) => i).filter((i) => i !== axis),
    kept: shape.map((_, i) => (i === axis ? channels : 1)),
    broadcast: [channels, ...shape.slice(axis + 1).map(() => 1)],
  };
}

/** A `[channels]` value in the shape that broadcasts against x (itself when the channels are last). */
function perChannel(b: OnnxGraphBuilder, g: ChannelGeometry, value: string, hint: string): string {
  return g.broadcast.length === 1 ? value : b.op('Reshape', [value, b.ints(g.broadcast)], g.broadcast, {}, hint);
}

/** A kept-dims per-channel value back to `[channels]`. */
function flat(b: OnnxGraphBuilder, g: ChannelGeometry, value: string, hint: string): string {
  return b.op('Reshape', [value, b.ints([g.channels])], [g.channels], {}, hint);
}

/**
 * Per-channel reduction over every other axis, dims kept. With the channels
 * between the batch and the positions (channels first), it reduces the
 * positions first and then the batch: ONNX Runtime reads a tensor more
 * slowly in one reduction over outer and inner axes together than in these
 * two, each over contiguous runs (bench/RESULTS.md, 2026-12-07 evening).
 * A mean of equal-sized means is the mean.
 */
function channelReduce(b: OnnxGraphBuilder, g: ChannelGeometry, op: 'ReduceMean' | 'ReduceSum', v: string, hint: string): string {
  const reduce = (value: string, axes: number[], shape: Dim[], h: string) =>
    op === 'ReduceSum'
      ? b.op(op, [value, b.ints(axes)], shape, { keepdims: intAttr(1) }, h)
      : b.op(op, [value], shape, { axes: intsAttr(axes), keepdims: intAttr(1) }, h);
  if (g.axis !== 1 || g.shape.length < 3) return reduce(v, g.reduced, g.kept, hint);
  const positions = g.reduced.filter((a) => a > 1);
  const perSample = reduce(
    v,
    positions,
    g.shape.map((d, i) => (i > 1 ? 1 : d)),
    `${hint}_positions`,
  );
  return reduce(perSample, [0], g.kept, hint);
}

/** 1/√(variance + ε), elementwise, in `variance`'s shape `shape`. */
export function emitInverseStd(b: OnnxGraphBuilder, variance: string, epsilon: number, shape: Dim[], hint: string): string {
  const std = b.op('Sqrt', [b.op('Add', [variance, b.scalar(epsilon)], shape, {}, `${hint}/var_eps`)], shape, {}, `${hint}/std`);
  return b.op('Reciprocal', [std], shape, {}, `${hint}/inv_std`);
}

/**
 * A training step's next moving statistics (`[channels]` each) from the
 * batch mean and *biased* batch variance over `n` values per channel (a
 * scalar value): `moving·momentum + batch·(1 − momentum)`, the variance
 * taken unbiased (n/(n − 1), or 1 when n = 1), as core's `BatchNormalization` says.
 */
export function emitMovingStatistics(
  b: OnnxGraphBuilder,
  node: BnNode,
  movingMean: string,
  movingVariance: string,
  batchMean: string,
  batchVariance: string,
  n: string,
): { mean: string; variance: string } {
  const c = node.inputShape[node.inputShape.length - 1];
  const { momentum } = node.config;
  const nMinus1 = b.op('Max', [b.op('Sub', [n, b.scalar(1)], [], {}, `${node.name}/n_1`), b.scalar(1)], [], {}, `${node.name}/n_1_min`);
  const unbiased = b.op('Mul', [batchVariance, b.op('Div', [n, nMinus1], [], {}, `${node.name}/bessel`)], [c], {}, `${node.name}/unbiased`);
  const blend = (moving: string, batch: string, hint: string) =>
    b.op(
      'Add',
      [b.op('Mul', [moving, b.scalar(momentum)], [c], {}, `${hint}_old`), b.op('Mul', [batch, b.scalar(1 - momentum)], [c], {}, `${hint}_new`)],
      [c],
      {},
      hint,
    );
  return {
    mean: blend(movingMean, batchMean, `${node.name}/moving_mean_next`),
    variance: blend(movingVariance, unbiased, `${node.name}/moving_variance_next`),
  };
}

/** Whether the node normalises with batch statistics: a training model, and the layer not frozen. */
const usesBatchStatistics = (forTraining: boolean, node: BnNode) => forTraining && nodeUpdatesState(node);

/**
 * batchNormalization over the input's channel axis (Keras's last axis,
 * semantics in core's `BatchNormalization`), in whichever layout the input
 * has, so a BN between convolutions adds no transposes.
 *
 * Inference models: ONNX BatchNormalization where the channels are axis 1
 * (ONNX Runtime folds it into a preceding Conv), else x·s + (β − μ·s) with
 * s = γ/√(σ² + ε). Training models (unless the layer is frozen) normalise
 * with the batch mean and biased variance and emit the next moving
 * statistics as `stateNext` (unbiased variance, n/(n − 1) computed
 * in-graph from the dynamic batch); a frozen layer uses the moving ones.
 * Either way the output is (x − μ)·s + β, and the gradient gets x − μ, the per-channel count n (batch statistics only), the
 * per-channel 1/√(σ² + ε) and s, all with the reduced axes kept as 1s.
 */
export const batchNormalizationLowering: ForwardLowering<'batchNormalization'> = {
  inputLayout: 'any',
  weightPerms: (node) => node.weights.map(() => null),
  emit({ b, forTraining }, node, [x], weights): LoweredForward {
    const { scale, center, epsilon } = node.config;
    const g = channelGeometry(x);
    const c = g.channels;
    let k = 0;
    const gamma = scale ? weights[k++] : null;
    const beta = center ? weights[k++] : null;
    const [movingMean, movingVariance] = [weights[k], weights[k + 1]];
    const stateNext: (string | null)[] = node.weights.map(() => null);
    if (!forTraining) {
      if (g.axis === 1) {
        const ones = gamma ?? b.floatConstant(`${node.name}/unit_scale`, [c], new Float32Array(c).fill(1));
        const zeros = beta ?? b.floatConstant(`${node.name}/zero_offset`, [c], new Float32Array(c));
        const z = b.op(
          'BatchNormalization',
          [x.name, ones, zeros, movingMean, movingVariance],
          g.shape,
          { epsilon: floatAttr(epsilon) },
          `${node.name}/normalized`,
        );
        return { z: { ...x, name: z }, stateNext };
      }
      const invStd = emitInverseStd(b, movingVariance, epsilon, [c], node.name);
      const s = gamma ? b.op('Mul', [invStd, gamma], [c], {}, `${node.name}/scale`) : invStd;
      const shifted = b.op('Mul', [movingMean, s], [c], {}, `${node.name}/mean_scaled`);
      const offset = beta ? b.op('Sub', [beta, shifted], [c], {}, `${node.name}/offset`) : b.op('Neg', [shifted], [c], {}, `${node.name}/offset`);
      const scaled = b.op('Mul', [x.name, perChannel(b, g, s, `${node.name}/scale_b`)], g.shape, {}, `${node.name}/scaled`);
      return { z: { ...x, name: b.op('Add', [scaled, perChannel(b, g, offset, `${node.name}/offset_b`)], g.shape, {}, `${node.name}/shifted`) }, stateNext };
    }
    const batchStats = usesBatchStatistics(forTraining, node);
    let centered: string;
    let variance: string;
    let count = '';
    if (batchStats) {
      const mean = channelReduce(b, g, 'ReduceMean', x.name, `${node.name}/batch_mean`);
      centered = b.op('Sub', [x.name, mean], g.shape, {}, `${node.name}/centered`);
      variance = channelReduce(b, g, 'ReduceMean', b.op('Mul', [centered, centered], g.shape, {}, `${node.name}/sq`), `${node.name}/batch_var`);
      // n values per channel: the dynamic batch times the per-sample positions.
      const n = b.op(
        'Div',
        [b.op('Cast', [b.op('Size', [x.name], [], {}, `${node.name}/size`)], [], { to: intAttr(1) }, `${node.name}/size_f`), b.scalar(c)],
        [],
        {},
        `${node.name}/n`,
      );
      count = n;
      const next = emitMovingStatistics(
        b,
        node,
        movingMean,
        movingVariance,
        flat(b, g, mean, `${node.name}/batch_mean_flat`),
        flat(b, g, variance, `${node.name}/batch_var_flat`),
        n,
      );
      stateNext[k] = next.mean;
      stateNext[k + 1] = next.variance;
    } else {
      centered = b.op('Sub', [x.name, perChannel(b, g, movingMean, `${node.name}/moving_mean_b`)], g.shape, {}, `${node.name}/centered`);
      variance = perChannel(b, g, movingVariance, `${node.name}/moving_variance_b`);
    }
    const varShape = batchStats ? g.kept : g.broadcast;
    const invStd = emitInverseStd(b, variance, epsilon, varShape, node.name);
    const s = gamma ? b.op('Mul', [invStd, perChannel(b, g, gamma, `${node.name}/gamma_b`)], varShape, {}, `${node.name}/scale`) : invStd;
    let z = b.op('Mul', [centered, s], g.shape, {}, `${node.name}/scaled`);
    if (beta) z = b.op('Add', [z, perChannel(b, g, beta, `${node.name}/beta_b`)], g.shape, {}, `${node.name}/shifted`);
    return { z: { ...x, name: z }, saved: { centered, invStd, scale: s, count }, stateNext };
  },
};

/**
 * batchNormalization gradient, with x̂ = (x − μ)·r, r = 1/√(σ² + ε),
 * s = γ·r, S₁ = Σ dz and S₂ = Σ dz·(x − μ) per channel over n values:
 * dγ = r·S₂, dβ = S₁; with batch statistics
 * dx = s·(dz − mean(dz) − x̂·mean(dz·x̂)) = dz·s − (x − μ)·(s·r²·S₂/n) − s·S₁/n,
 * with the moving ones dx = dz·s. The moving statistics get a zero
 * gradient (state weights).
 */
export const batchNormalizationGradient: GradientRule<'batchNormalization'> = ({ b, node, xs: [x], forward, dZ, needInputGrad }) => {
  const { scale, center } = node.config;
  const g = channelGeometry(x);
  // `count` (values per channel) is saved only when the forward pass used batch statistics.
  const { centered, invStd, scale: s, count } = forward.saved!;
  const zeros = b.floatConstant(`${node.name}/zero_state_grad`, [g.channels], new Float32Array(g.channels));
  const needSums = needInputGrad && count !== '';
  const sumDz = center || needSums ? channelReduce(b, g, 'ReduceSum', dZ, 'bn_sum_dz') : null;
  const sumDzCentered =
    scale || needSums ? channelReduce(b, g, 'ReduceSum', b.op('Mul', [dZ, centered], g.shape, {}, 'bn_dz_centered'), 'bn_sum_dz_centered') : null;
  const dWeights: string[] = [];
  if (scale) dWeights.push(flat(b, g, b.op('Mul', [sumDzCentered!, invStd], g.kept, {}, 'bn_dgamma_kept'), 'bn_dgamma'));
  if (center) dWeights.push(flat(b, g, sumDz!, 'bn_dbeta'));
  dWeights.push(zeros, zeros);
  if (!needInputGrad) return { dXs: [null], dWeights };
  const direct = b.op('Mul', [dZ, s], g.shape, {}, 'bn_dx_direct');
  if (!needSums) return { dXs: [direct], dWeights };
  const sOverN = b.op('Div', [s, count], g.kept, {}, 'bn_scale_over_n');
  const centeredFactor = b.op(
    'Mul',
    [b.op('Mul', [sOverN, b.op('Mul', [invStd, invStd], g.kept, {}, 'bn_r2')], g.kept, {}, 'bn_s_r2_n'), sumDzCentered!],
    g.kept,
    {},
    'bn_centered_factor',
  );
  const offset = b.op('Mul', [sOverN, sumDz!], g.kept, {}, 'bn_offset');
  const lessCentered = b.op('Sub', [direct, b.op('Mul', [centered, centeredFactor], g.shape, {}, 'bn_dx_centered')], g.shape, {}, 'bn_dx_a');
  return { dXs: [b.op('Sub', [lessCentered, offset], g.shape, {}, 'bn_dx')], dWeights };
};
