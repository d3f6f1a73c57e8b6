import { layoutShape } from '../layout.js';
import { floatAttr } from '../onnx-graph.js';
import type { ForwardLowering, GradientRule } from './types.js';

/** leakyRelu: ONNX LeakyRelu, element-wise, in whatever layout the input has. */
export const leakyReluLowering: ForwardLowering<'leakyRelu'> = {
  inputLayout: 'any',
  weightPerms: () => [],
  emit({ b }, node, [x]) {
    const z = b.op('LeakyRelu', [x.name], layoutShape(x.perSample, x.layout), { alpha: floatAttr(node.config.negativeSlope) }, `${node.name}/leaky_relu`);
    return { z: { ...x, name: z } };
  },
};

/** leakyRelu gradient: dz where x > 0, slope·dz elsewhere (so at exactly 0 the slope, as TensorFlow). */
export const leakyReluGradient: GradientRule<'leakyRelu'> = ({ b, node, xs: [x], dZ, needInputGrad }) => {
  if (!needInputGrad) return { dXs: [null], dWeights: [] };
  const shape = layoutShape(x.perSample, x.layout);
  const positive = b.op('Greater', [x.name, b.scalar(0)], shape, {}, 'leaky_positive');
  const leaked = b.op('Mul', [dZ, b.scalar(node.config.negativeSlope)], shape, {}, 'leaky_scaled');
  return { dXs: [b.op('Where', [positive, dZ, leaked], shape, {}, 'leaky_dx')], dWeights: [] };
};
