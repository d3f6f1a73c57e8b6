import { layerNormAxis } from '@araboza/core';
import type { Dim } from '../onnx-graph.js';
import { intAttr, intsAttr, type OnnxGraphBuilder } from '../onnx-graph.js';
import { emitAccurateSum } from '../reductions.js';
import type { ForwardLowering, GradientRule, NodeOf } from './types.js';

/** The batched axis a node normalises over, and the shapes of the value and of one statistic. */
function normGeometry(node: NodeOf<'layerNormalization'>) {
  const axis = layerNormAxis(node.config.axis, node.inputShape.length) + 1;
  const shape: Dim[] = ['N', ...node.inputShape];
  const statShape = shape.map((d, i) => (i === axis ? 1 : d));
  // gamma/beta `[d]` reshaped to broadcast from the right: `[d, 1, …]` with one 1 per later axis.
  const paramShape = [node.inputShape[axis - 1], ...node.inputShape.slice(axis).map(() => 1)];
  return { axis, shape, statShape, paramShape };
}

function reduceMean(b: OnnxGraphBuilder, value: string, axis: number, shape: readonly Dim[], hint: string): string {
  return b.op('ReduceMean', [value], shape, { axes: intsAttr([axis]), keepdims: intAttr(1) }, hint);
}

/**
 * layerNormalization in the Keras layout: mean and biased variance over the
 * axis (ReduceMean), `xhat = (x − mean)·(var + ε)^−½`, then `xhat·gamma + beta`.
 * Saves xhat and the inverse standard deviation for the gradient.
 */
export const layerNormalizationLowering: ForwardLowering<'layerNormalization'> = {
  inputLayout: 'keras',
  weightPerms: (node) => [node.config.scale, node.config.center].filter(Boolean).map(() => null),
  emit({ b }, node, [x], weights) {
    const c = node.config;
    const { axis, shape, statShape, paramShape } = normGeometry(node);
    const mean = reduceMean(b, x.name, axis, statShape, `${node.name}/mean`);
    const centred = b.op('Sub', [x.name, mean], shape, {}, `${node.name}/centred`);
    const variance = reduceMean(b, b.op('Mul', [centred, centred], shape, {}, `${node.name}/squares`), axis, statShape, `${node.name}/variance`);
    const std = b.op('Sqrt', [b.op('Add', [variance, b.scalar(c.epsilon)], statShape, {}, `${node.name}/var_eps`)], statShape, {}, `${node.name}/std`);
    const inv = b.op('Div', [b.scalar(1), std], statShape, {}, `${node.name}/inv_std`);
    const xhat = b.op('Mul', [centred, inv], shape, {}, `${node.name}/xhat`);
    let z = xhat;
    let w = 0;
    if (c.scale) z = b.op('Mul', [z, b.op('Reshape', [weights[w++], b.ints(paramShape)], paramShape, {}, 'gamma_b')], shape, {}, `${node.name}/scaled`);
    if (c.center) z = b.op('Add', [z, b.op('Reshape', [weights[w++], b.ints(paramShape)], paramShape, {}, 'beta_b')], shape, {}, `${node.name}/shifted`);
    return { z: { name: z, perSample: node.outputShape, layout: 'keras' }, saved: { xhat, inv } };
  },
};

/**
 * layerNormalization gradient: dgamma = Σ dz·xhat and dbeta = Σ dz over every
 * axis but the normalised one (float64-accurate sums); with g = dz·gamma,
 * dx = inv·(g − mean(g) − xhat·mean(g·xhat)), the means over the axis.
 */
export const layerNormalizationGradient: GradientRule<'layerNormalization'> = ({ b, node, forward, weights, dZ, needInputGrad }) => {
  const c = node.config;
  const { axis, shape, statShape, paramShape } = normGeometry(node);
  const { xhat, inv } = forward.saved!;
  const others = shape.map((_, i) => i).filter((i) => i !== axis);
  const size = [node.inputShape[axis - 1]];
  const dWeights: string[] = [];
  if (c.scale) dWeights.push(emitAccurateSum(b, b.op('Mul', [dZ, xhat], shape, {}, 'ln_dz_xhat'), shape, others, size, 'ln_dgamma'));
  if (c.center) dWeights.push(emitAccurateSum(b, dZ, shape, others, size, 'ln_dbeta'));
  if (!needInputGrad) return { dXs: [null], dWeights };
  const g = c.scale ? b.op('Mul', [dZ, b.op('Reshape', [weights[0], b.ints(paramShape)], paramShape, {}, 'gamma_b')], shape, {}, 'ln_dxhat') : dZ;
  const meanG = reduceMean(b, g, axis, statShape, 'ln_mean_g');
  const meanGx = reduceMean(b, b.op('Mul', [g, xhat], shape, {}, 'ln_g_xhat'), axis, statShape, 'ln_mean_g_xhat');
  const inner = b.op(
    'Sub',
    [b.op('Sub', [g, meanG], shape, {}, 'ln_g_centred'), b.op('Mul', [xhat, meanGx], shape, {}, 'ln_xhat_term')],
    shape,
    {},
    'ln_inner',
  );
  return { dXs: [b.op('Mul', [inner, inv], shape, {}, 'ln_dx')], dWeights };
};
