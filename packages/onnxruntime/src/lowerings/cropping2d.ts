import { layoutShape } from '../layout.js';
import type { ForwardLowering, GradientRule } from './types.js';
import { emitZeroPad, sidePads, sliceSides } from './zero-padding2d.js';

/** cropping2d: a Slice of the kept rows and columns, in whatever layout the input has. */
export const cropping2dLowering: ForwardLowering<'cropping2d'> = {
  inputLayout: 'any',
  weightPerms: () => [],
  emit({ b }, node, [x]) {
    const out = { name: '', perSample: node.outputShape, layout: x.layout };
    return { z: { ...out, name: sliceSides(b, x.name, node.config.cropping, x, out, `${node.name}/crop`) } };
  },
};

/**
 * cropping2d gradient: dz padded back with zeros where rows and columns
 * were cropped ({@link emitZeroPad}: kept out of onnxruntime's PadFusion,
 * which would otherwise fold it into the next gradient's pooling, such as
 * an upsampling's AveragePool).
 */
export const cropping2dGradient: GradientRule<'cropping2d'> = ({ b, node, xs: [x], forward, dZ, needInputGrad }) => ({
  dXs: [needInputGrad ? emitZeroPad(b, dZ, sidePads(node.config.cropping, forward.z), layoutShape(x.perSample, x.layout), 'uncrop_dx') : null],
  dWeights: [],
});
