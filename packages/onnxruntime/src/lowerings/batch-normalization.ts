import { nodeUpdatesState } from '@araboza/core';
import { layoutShape, type Value } from '../layout.js';
import { intAttr, intsAttr, type Dim, type OnnxGraphBuilder } from '../onnx-graph.js';
import type { ForwardLowering, GradientRule, LoweredForward, NodeOf } from './types.js';

type BnNode = NodeOf<'batchNormalization'>;

/** Every axis of a channels-last value but the channels (the batch axis included). */
const reducedAxes = (x: Value) => Array.from({ length: x.perSample.length }, (_, i) => i);

/** Per-channel mean over every other axis, shape `[channels]`. */
function channelMean(b: OnnxGraphBuilder, x: Value, v: string, hint: string): string {
  return b.op('ReduceMean', [v], [x.perSample[x.perSample.length - 1]], { axes: intsAttr(reducedAxes(x)), keepdims: intAttr(0) }, hint);
}

/** Per-channel sum over every other axis, shape `[channels]`. */
function channelSum(b: OnnxGraphBuilder, x: Value, v: string, hint: string): string {
  return b.op('ReduceSum', [v, b.ints(reducedAxes(x))], [x.perSample[x.perSample.length - 1]], { keepdims: intAttr(0) }, hint);
}

/** Whether the node normalises with batch statistics: a training model, and the layer not frozen. */
const usesBatchStatistics = (forTraining: boolean, node: BnNode) => forTraining && nodeUpdatesState(node);

/**
 * batchNormalization over the channels-last input's last axis (semantics in
 * core's `BatchNormalization`). In a training model (unless the layer is
 * frozen) it normalises with the batch mean and biased variance and emits
 * the next moving statistics as `stateNext` (unbiased variance, n/(n − 1)
 * computed in-graph from the dynamic batch); otherwise it uses the moving
 * statistics. Saves x̂ and 1/sqrt(σ² + ε) for the gradient.
 */
export const batchNormalizationLowering: ForwardLowering<'batchNormalization'> = {
  inputLayout: 'keras',
  weightPerms: (node) => node.weights.map(() => null),
  emit({ b, forTraining }, node, [x], weights): LoweredForward {
    const { scale, center, epsilon, momentum } = node.config;
    const shape: Dim[] = layoutShape(x.perSample, x.layout);
    const c = x.perSample[x.perSample.length - 1];
    let k = 0;
    const gamma = scale ? weights[k++] : null;
    const beta = center ? weights[k++] : null;
    const [movingMean, movingVariance] = [weights[k], weights[k + 1]];
    const batchStats = usesBatchStatistics(forTraining, node);
    let mean = movingMean;
    let variance = movingVariance;
    const stateNext: (string | null)[] = node.weights.map(() => null);
    if (batchStats) {
      mean = channelMean(b, x, x.name, `${node.name}/batch_mean`);
      const centered = b.op('Sub', [x.name, mean], shape, {}, `${node.name}/centered`);
      variance = channelMean(b, x, b.op('Mul', [centered, centered], shape, {}, `${node.name}/sq`), `${node.name}/batch_var`);
      // n values per channel: the dynamic batch times the per-sample positions; n/(n − 1), or 1 when n = 1.
      const n = b.op(
        'Div',
        [b.op('Cast', [b.op('Size', [x.name], [], {}, `${node.name}/size`)], [], { to: intAttr(1) }, `${node.name}/size_f`), b.scalar(c)],
        [],
        {},
        `${node.name}/n`,
      );
      const nMinus1 = b.op('Max', [b.op('Sub', [n, b.scalar(1)], [], {}, `${node.name}/n_1`), b.scalar(1)], [], {}, `${node.name}/n_1_min`);
      const unbiased = b.op('Mul', [variance, b.op('Div', [n, nMinus1], [], {}, `${node.name}/bessel`)], [c], {}, `${node.name}/unbiased`);
      const blend = (moving: string, batch: string, hint: string) =>
        b.op(
          'Add',
          [b.op('Mul', [moving, b.scalar(momentum)], [c], {}, `${hint}_old`), b.op('Mul', [batch, b.scalar(1 - momentum)], [c], {}, `${hint}_new`)],
          [c],
          {},
          hint,
        );
      stateNext[k] = blend(movingMean, mean, `${node.name}/moving_mean_next`);
      stateNext[k + 1] = blend(movingVariance, unbiased, `${node.name}/moving_variance_next`);
    }
    const invStd = b.op(
      'Div',
      [b.scalar(1), b.op('Sqrt', [b.op('Add', [variance, b.scalar(epsilon)], [c], {}, `${node.name}/var_eps`)], [c], {}, `${node.name}/std`)],
      [c],
      {},
      `${node.name}/inv_std`,
    );
    const xHat = b.op('Mul', [b.op('Sub', [x.name, mean], shape, {}, `${node.name}/x_centered`), invStd], shape, {}, `${node.name}/x_hat`);
    let z = xHat;
    if (gamma) z = b.op('Mul', [z, gamma], shape, {}, `${node.name}/scaled`);
    if (beta) z = b.op('Add', [z, beta], shape, {}, `${node.name}/shifted`);
    return { z: { ...x, name: z }, saved: { xHat, invStd, batchStats: batchStats ? '1' : '' }, stateNext };
  },
};

/**
 * batchNormalization gradient. With batch statistics (dx̂ = dz·γ):
 * dx = (1/σ)·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)); with the moving ones dx = dx̂/σ.
 * dγ = Σ dz·x̂, dβ = Σ dz; the moving statistics get a zero gradient (state weights).
 */
export const batchNormalizationGradient: GradientRule<'batchNormalization'> = ({ b, node, xs: [x], forward, weights, dZ, needInputGrad }) => {
  const { scale, center } = node.config;
  const shape: Dim[] = layoutShape(x.perSample, x.layout);
  const c = x.perSample[x.perSample.length - 1];
  const { xHat, invStd, batchStats } = forward.saved!;
  const gamma = scale ? weights[0] : null;
  const zeros = b.floatConstant(`${node.name}/zero_state_grad`, [c], new Float32Array(c));
  const dWeights: string[] = [];
  if (scale) dWeights.push(channelSum(b, x, b.op('Mul', [dZ, xHat], shape, {}, 'bn_dz_xhat'), 'bn_dgamma'));
  if (center) dWeights.push(channelSum(b, x, dZ, 'bn_dbeta'));
  dWeights.push(zeros, zeros);
  if (!needInputGrad) return { dXs: [null], dWeights };
  const dXHat = gamma ? b.op('Mul', [dZ, gamma], shape, {}, 'bn_dxhat') : dZ;
  let inner = dXHat;
  if (batchStats) {
    const meanD = channelMean(b, x, dXHat, 'bn_mean_dxhat');
    const meanDX = channelMean(b, x, b.op('Mul', [dXHat, xHat], shape, {}, 'bn_dxhat_xhat'), 'bn_mean_dxhat_xhat');
    inner = b.op('Sub', [b.op('Sub', [dXHat, meanD], shape, {}, 'bn_dx_a'), b.op('Mul', [xHat, meanDX], shape, {}, 'bn_dx_b')], shape, {}, 'bn_dx_c');
  }
  return { dXs: [b.op('Mul', [inner, invStd], shape, {}, 'bn_dx')], dWeights };
};
