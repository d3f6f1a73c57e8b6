import { intAttr, intsAttr } from '../onnx-graph.js';
import { channelsFirstShape, emitPerChannelConvTranspose, onnxPads } from './conv-common.js';
import { pooling2dGeometry } from './max-pooling2d.js';
import type { ForwardLowering, GradientRule } from './types.js';

/** averagePooling2d: ONNX AveragePool with count_include_pad=0, so `same` padding is left out of the mean, as in Keras. */
export const averagePooling2dLowering: ForwardLowering<'averagePooling2d'> = {
  inputLayout: 'channelsFirst',
  weightPerms: () => [],
  emit({ b }, node, [x]) {
    const g = pooling2dGeometry(node);
    const z = b.op(
      'AveragePool',
      [x.name],
      channelsFirstShape(node.inputShape[2], g.output),
      {
        kernel_shape: intsAttr(node.config.poolSize),
        strides: intsAttr(g.strides),
        pads: intsAttr(onnxPads(g)),
        count_include_pad: intAttr(0),
      },
      `${node.name}/avgpool`,
    );
    return { z: { name: z, perSample: node.outputShape, layout: 'channelsFirst' } };
  },
};

/**
 * averagePooling2d gradient: dz divided by each window's count of real
 * (unpadded) inputs, spread back over the window by a depthwise
 * ConvTranspose with a kernel of ones ({@link emitPerChannelConvTranspose}).
 */
export const averagePooling2dGradient: GradientRule<'averagePooling2d'> = ({ b, node, dZ, needInputGrad, provider }) => {
  if (!needInputGrad) return { dXs: [null], dWeights: [] };
  const g = pooling2dGeometry(node);
  const [kh, kw] = node.config.poolSize;
  const [h, w, c] = node.inputShape;
  const counts = new Float32Array(g.output[0] * g.output[1]);
  const covered = (o: number, axis: number) => {
    const start = o * g.strides[axis] - g.before[axis];
    return Math.min(start + node.config.poolSize[axis], g.input[axis]) - Math.max(start, 0);
  };
  for (let i = 0; i < g.output[0]; i++) for (let j = 0; j < g.output[1]; j++) counts[i * g.output[1] + j] = 1 / (covered(i, 0) * covered(j, 1));
  const inverseCounts = b.floatConstant(`${node.name}/inverse_counts`, [1, 1, g.output[0], g.output[1]], counts);
  const scaled = b.op('Mul', [dZ, inverseCounts], channelsFirstShape(c, g.output), {}, 'avgpool_scaled');
  const outputPadding = g.input.map((n, i) => n - ((g.output[i] - 1) * g.strides[i] + node.config.poolSize[i] - g.before[i] - g.after[i]));
  const ones = { shape: [1, 1, kh, kw], data: new Float32Array(kh * kw).fill(1) };
  const dX = emitPerChannelConvTranspose(
    b,
    scaled,
    ones,
    c,
    { strides: g.strides, dilations: [1, 1], pads: onnxPads(g), outputPadding },
    [h, w],
    provider,
    'avgpool_dx',
  );
  return { dXs: [dX], dWeights: [] };
};
