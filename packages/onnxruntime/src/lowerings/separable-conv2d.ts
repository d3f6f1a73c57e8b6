import { convGeometry, emitChannelBiasGrad, emitConvForward, emitConvGrads } from './conv-common.js';
import { depthwiseGeometry, emitDepthwiseForward, emitDepthwiseGrads } from './depthwise-conv2d.js';
import type { ForwardLowering, GradientRule, NodeOf } from './types.js';

/** Geometry of the pointwise (1×1) step over the depthwise output. */
function pointwiseGeometry(node: NodeOf<'separableConv2d'>) {
  return convGeometry(node.outputShape.slice(0, 2), [1, 1], [1, 1], [1, 1], 'valid');
}

/**
 * separableConv2d in NCHW: the depthwise step without bias
 * ({@link emitDepthwiseForward}), then a 1×1 Conv with the bias. Kernels:
 * depthwise Keras `[kh, kw, C, mult]` ↔ ONNX `[C, mult, kh, kw]`, pointwise
 * Keras `[1, 1, C·mult, filters]` ↔ ONNX `[filters, C·mult, 1, 1]`.
 */
export const separableConv2dLowering: ForwardLowering<'separableConv2d'> = {
  inputLayout: 'channelsFirst',
  weightPerms: (node) =>
    node.config.useBias
      ? [[2, 3, 0, 1], [3, 2, 0, 1], null]
      : [
          [2, 3, 0, 1],
          [3, 2, 0, 1],
        ],
  emit({ b, provider }, node, [x], [depthwise, pointwise, bias]) {
    const cin = node.inputShape[2];
    const c = node.config;
    const mid = emitDepthwiseForward(b, x.name, depthwise, null, depthwiseGeometry(node), cin, c.depthMultiplier, provider, `${node.name}/depthwise`);
    const midValue = { name: mid, perSample: [...node.outputShape.slice(0, 2), cin * c.depthMultiplier], layout: 'channelsFirst' as const };
    const z = emitConvForward(b, midValue, pointwise, bias ?? null, pointwiseGeometry(node), c.filters, `${node.name}/pointwise`);
    return { z: { name: z, perSample: node.outputShape, layout: 'channelsFirst' }, saved: { depthwise: mid } };
  },
};

/** separableConv2d gradient: the pointwise Conv's ({@link emitConvGrads}), then the depthwise step's, and a sum for dbias. */
export const separableConv2dGradient: GradientRule<'separableConv2d'> = ({
  b,
  node,
  xs: [x],
  forward,
  weights,
  dZ,
  dZTotals,
  needInputGrad,
  provider,
  convBlock,
}) => {
  const cin = node.inputShape[2];
  const c = node.config;
  const mid = forward.saved!.depthwise;
  const point = emitConvGrads(b, mid, dZ, weights[1], pointwiseGeometry(node), cin * c.depthMultiplier, c.filters, true, provider, convBlock);
  const depth = emitDepthwiseGrads(b, x.name, point.dX!, weights[0], depthwiseGeometry(node), cin, c.depthMultiplier, needInputGrad, provider);
  const dWeights = [depth.dKernel, point.dKernel];
  if (c.useBias) dWeights.push(emitChannelBiasGrad(b, dZTotals ?? dZ, 2, c.filters));
  return { dXs: [depth.dX], dWeights };
};
