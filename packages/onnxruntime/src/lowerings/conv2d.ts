import { convGeometry, emitChannelBiasGrad, emitConvForward, emitConvGrads } from './conv-common.js';
import type { ForwardLowering, GradientRule, NodeOf } from './types.js';

function conv2dGeometry(node: NodeOf<'conv2d'>) {
  const c = node.config;
  return convGeometry(node.inputShape.slice(0, 2), c.kernelSize, c.strides, c.dilationRate, c.padding);
}

/** conv2d: ONNX Conv in NCHW; kernel Keras `[kh, kw, cin, out]` ↔ ONNX `[out, cin, kh, kw]`. */
export const conv2dLowering: ForwardLowering<'conv2d'> = {
  inputLayout: 'channelsFirst',
  weightPerms: (node) => (node.config.useBias ? [[3, 2, 0, 1], null] : [[3, 2, 0, 1]]),
  emit({ b }, node, [x], [kernel, bias]) {
    const z = emitConvForward(b, x, kernel, bias ?? null, conv2dGeometry(node), node.config.filters, `${node.name}/conv`);
    return { z: { name: z, perSample: node.outputShape, layout: 'channelsFirst' } };
  },
};

/** conv2d gradient: dx and dkernel from {@link emitConvGrads} (one shared im2col where it can), a sum for dbias. */
export const conv2dGradient: GradientRule<'conv2d'> = ({ b, node, xs: [x], weights, dZ, dZTotals, needInputGrad, provider, convBlock }) => {
  const g = conv2dGeometry(node);
  const cin = node.inputShape[2];
  const grads = emitConvGrads(b, x.name, dZ, weights[0], g, cin, node.config.filters, needInputGrad, provider, convBlock);
  const dWeights = [grads.dKernel];
  if (node.config.useBias) dWeights.push(emitChannelBiasGrad(b, dZTotals ?? dZ, 2, node.config.filters));
  return { dXs: [grads.dX], dWeights };
};
