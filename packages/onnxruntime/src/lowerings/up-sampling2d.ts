import { intAttr, intsAttr, stringAttr } from '../onnx-graph.js';
import { channelsFirstShape } from './conv-common.js';
import type { ForwardLowering, GradientRule } from './types.js';

/** upSampling2d (nearest): ONNX Resize with integer scales, asymmetric coordinates and floor rounding, which repeats each pixel exactly. */
export const upSampling2dLowering: ForwardLowering<'upSampling2d'> = {
  inputLayout: 'channelsFirst',
  weightPerms: () => [],
  emit({ b }, node, [x]) {
    const [sh, sw] = node.config.size;
    const scales = b.floatConstant(`${node.name}/scales`, [4], Float32Array.of(1, 1, sh, sw));
    const [h, w, c] = node.outputShape;
    const z = b.op(
      'Resize',
      [x.name, '', scales],
      channelsFirstShape(c, [h, w]),
      {
        mode: stringAttr('nearest'),
        coordinate_transformation_mode: stringAttr('asymmetric'),
        nearest_mode: stringAttr('floor'),
      },
      `${node.name}/resize`,
    );
    return { z: { name: z, perSample: node.outputShape, layout: 'channelsFirst' } };
  },
};

/**
 * upSampling2d gradient: dz summed over each pixel's sh·sw copies. Where
 * sh·sw is a power of two, as an AveragePool times sh·sw (exact: the
 * division and the product are by a power of two), which ONNX Runtime's CPU
 * pooling runs faster than a ReduceSum over two strided axes; otherwise, and
 * on WebGPU, dz reshaped to `[N, C, H, sh, W, sw]` and reduced.
 */
export const upSampling2dGradient: GradientRule<'upSampling2d'> = ({ b, node, dZ, needInputGrad, provider }) => {
  if (!needInputGrad) return { dXs: [null], dWeights: [] };
  const [sh, sw] = node.config.size;
  const [h, w, c] = node.inputShape;
  const copies = sh * sw;
  if (provider !== 'webgpu' && (copies & (copies - 1)) === 0) {
    const mean = b.op(
      'AveragePool',
      [dZ],
      channelsFirstShape(c, [h, w]),
      { kernel_shape: intsAttr([sh, sw]), strides: intsAttr([sh, sw]), pads: intsAttr([0, 0, 0, 0]), count_include_pad: intAttr(0) },
      'upsample_dz_mean',
    );
    return { dXs: [b.op('Mul', [mean, b.scalar(copies)], channelsFirstShape(c, [h, w]), {}, 'upsample_dx')], dWeights: [] };
  }
  const blocks = b.op('Reshape', [dZ, b.ints([0, c, h, sh, w, sw])], ['N', c, h, sh, w, sw], {}, 'upsample_blocks');
  const dX = b.op('ReduceSum', [blocks, b.ints([3, 5])], channelsFirstShape(c, [h, w]), { keepdims: intAttr(0) }, 'upsample_dx');
  return { dXs: [dX], dWeights: [] };
};
