import type { ForwardLowering, GradientRule } from './types.js';

/** reshape: a Reshape of the channels-last tensor (row-major order, as Keras). */
export const reshapeLowering: ForwardLowering<'reshape'> = {
  inputLayout: 'keras',
  weightPerms: () => [],
  emit({ b }, node, [x]) {
    const z = b.op('Reshape', [x.name, b.ints([0, ...node.outputShape])], ['N', ...node.outputShape], {}, `${node.name}/reshape`);
    return { z: { name: z, perSample: node.outputShape, layout: 'keras' } };
  },
};

/** reshape gradient: dz reshaped back to the input shape. */
export const reshapeGradient: GradientRule<'reshape'> = ({ b, node, dZ, needInputGrad }) => ({
  dXs: [needInputGrad ? b.op('Reshape', [dZ, b.ints([0, ...node.inputShape])], ['N', ...node.inputShape], {}, 'reshape_dx') : null],
  dWeights: [],
});
