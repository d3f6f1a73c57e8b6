import { layoutShape } from '../layout.js';
import type { ForwardLowering, GradientRule } from './types.js';

/**
 * activation layer: an Identity (so its pre-activation value has a name of
 * its own, distinct from its input's, for the backward pass; ONNX Runtime
 * removes it); its config's `activation` is applied by the generator like
 * every layer's fused activation, in whatever layout the input has (softmax
 * picks the channel axis).
 */
export const activationLowering: ForwardLowering<'activation'> = {
  inputLayout: 'any',
  weightPerms: () => [],
  emit({ b }, node, [x]) {
    return { z: { ...x, name: b.op('Identity', [x.name], layoutShape(x.perSample, x.layout), {}, `${node.name}/input`) } };
  },
};

/** activation layer gradient: the identity (the activation's own gradient is applied by the generator). */
export const activationGradient: GradientRule<'activation'> = ({ dZ, needInputGrad }) => ({ dXs: [needInputGrad ? dZ : null], dWeights: [] });
