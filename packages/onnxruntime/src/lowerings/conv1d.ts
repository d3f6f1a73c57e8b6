import { convGeometry, emitChannelBiasGrad, emitConvForward, emitConvGrads } from './conv-common.js';
import type { ForwardLowering, GradientRule, NodeOf } from './types.js';

function conv1dGeometry(node: NodeOf<'conv1d'>) {
  const c = node.config;
  return convGeometry([node.inputShape[0]], [c.kernelSize], [c.strides], [c.dilationRate], c.padding);
}

/** conv1d: ONNX Conv in NCL; kernel Keras `[k, cin, out]` ↔ ONNX `[out, cin, k]`. */
export const conv1dLowering: ForwardLowering<'conv1d'> = {
  inputLayout: 'channelsFirst',
  weightPerms: (node) => (node.config.useBias ? [[2, 1, 0], null] : [[2, 1, 0]]),
  emit({ b }, node, [x], [kernel, bias]) {
    const z = emitConvForward(b, x, kernel, bias ?? null, conv1dGeometry(node), node.config.filters, `${node.name}/conv`);
    return { z: { name: z, perSample: node.outputShape, layout: 'channelsFirst' } };
  },
};

/** conv1d gradient: as conv2d's, with one spatial axis. */
export const conv1dGradient: GradientRule<'conv1d'> = ({ b, node, xs: [x], weights, dZ, dZTotals, needInputGrad, provider, convBlock }) => {
  const g = conv1dGeometry(node);
  const cin = node.inputShape[1];
  const grads = emitConvGrads(b, x.name, dZ, weights[0], g, cin, node.config.filters, needInputGrad, provider, convBlock);
  const dWeights = [grads.dKernel];
  if (node.config.useBias) dWeights.push(emitChannelBiasGrad(b, dZTotals ?? dZ, 1, node.config.filters));
  return { dXs: [grads.dX], dWeights };
};
