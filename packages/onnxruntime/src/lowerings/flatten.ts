import type { ForwardLowering, GradientRule } from './types.js';

/** flatten: a Reshape of the channels-last tensor, so the order is Keras's (h, w, c). */
export const flattenLowering: ForwardLowering<'flatten'> = {
  inputLayout: 'keras',
  weightPerms: () => [],
  emit({ b }, node, [x]) {
    const z = b.op('Reshape', [x.name, b.ints([0, -1])], ['N', ...node.outputShape], {}, `${node.name}/flatten`);
    return { z: { name: z, perSample: node.outputShape, layout: 'keras' } };
  },
};

/** flatten gradient: dz reshaped back to the input shape. */
export const flattenGradient: GradientRule<'flatten'> = ({ b, node, dZ, needInputGrad }) => ({
  dXs: [needInputGrad ? b.op('Reshape', [dZ, b.ints([0, ...node.inputShape])], ['N', ...node.inputShape], {}, 'flatten_dx') : null],
  dWeights: [],
});
