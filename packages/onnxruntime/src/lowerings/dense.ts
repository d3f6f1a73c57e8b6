import { intAttr, intsAttr } from '../onnx-graph.js';
import { emitAccurateSum } from '../reductions.js';
import type { ForwardLowering, GradientRule } from './types.js';

/**
 * dense over the last axis, in the Keras layout: Gemm for `[N, in]`, MatMul
 * (+ Add) for higher ranks. The kernel `[in, units]` is the same in both layouts.
 */
export const denseLowering: ForwardLowering<'dense'> = {
  inputLayout: 'keras',
  weightPerms: (node) => (node.config.useBias ? [null, null] : [null]),
  emit({ b }, node, [x], [kernel, bias]) {
    const shape = ['N' as const, ...node.outputShape];
    let z: string;
    if (node.inputShape.length === 1) {
      z = b.op('Gemm', bias ? [x.name, kernel, bias] : [x.name, kernel], shape, {}, `${node.name}/gemm`);
    } else {
      z = b.op('MatMul', [x.name, kernel], shape, {}, `${node.name}/matmul`);
      if (bias) z = b.op('Add', [z, bias], shape, {}, `${node.name}/bias`);
    }
    return { z: { name: z, perSample: node.outputShape, layout: 'keras' } };
  },
};

/**
 * dense gradient: dx = dz·kernelᵀ; dkernel = xᵀ·dz summed over every
 * leading axis (batched MatMul then ReduceSum for rank > 2, one Gemm for rank 2);
 * dbias = dz summed over every axis but the last.
 */
export const denseGradient: GradientRule<'dense'> = ({ b, node, xs: [x], weights, dZ, needInputGrad }) => {
  const inputs = node.inputShape[node.inputShape.length - 1];
  const units = node.config.units;
  const lead = node.inputShape.length; // number of axes before the feature axis, batch included
  let dKernel: string;
  if (lead === 1) {
    dKernel = b.op('Gemm', [x.name, dZ], [inputs, units], { transA: intAttr(1) }, 'dense_dw');
  } else {
    const rank = lead + 1;
    const swapLast = [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
    const xT = b.op('Transpose', [x.name], ['N', ...node.inputShape.slice(0, -2), inputs, node.inputShape[lead - 2]], { perm: intsAttr(swapLast) }, 'dense_xT');
    const perSample = b.op('MatMul', [xT, dZ], ['N', ...node.inputShape.slice(0, -2), inputs, units], {}, 'dense_dw_each');
    dKernel = b.op('ReduceSum', [perSample, b.ints(Array.from({ length: rank - 2 }, (_, i) => i))], [inputs, units], { keepdims: intAttr(0) }, 'dense_dw');
  }
  const dWeights = [dKernel];
  if (node.config.useBias) {
    dWeights.push(
      emitAccurateSum(
        b,
        dZ,
        b.shapeOf(dZ),
        Array.from({ length: lead }, (_, i) => i),
        [units],
        'dense_db',
      ),
    );
  }
  let dX: string | null = null;
  if (needInputGrad) {
    const shape = ['N' as const, ...node.inputShape];
    dX =
      lead === 1
        ? b.op('Gemm', [dZ, weights[0]], shape, { transB: intAttr(1) }, 'dense_dx')
        : b.op('MatMul', [dZ, b.op('Transpose', [weights[0]], [units, inputs], { perm: intsAttr([1, 0]) }, 'dense_wT')], shape, {}, 'dense_dx');
  }
  return { dXs: [dX], dWeights };
};
