import { intAttr, intsAttr, stringAttr } from '../onnx-graph.js';
import { channelsFirstShape, convGeometry, onnxPads } from './conv-common.js';
import type { ForwardLowering, GradientRule, NodeOf } from './types.js';

/** Geometry of a 2-D pooling node (also used by average pooling). */
export function pooling2dGeometry(node: NodeOf<'maxPooling2d' | 'averagePooling2d'>) {
  const c = node.config;
  return convGeometry(node.inputShape.slice(0, 2), c.poolSize, c.strides, [1, 1], c.padding);
}

/**
 * maxPooling2d: ONNX MaxPool in NCHW; ONNX ignores padded positions in the
 * max, as Keras's −∞ padding does. For training it also keeps `Indices`
 * (flat over N·C·H·W) for the gradient.
 */
export const maxPooling2dLowering: ForwardLowering<'maxPooling2d'> = {
  inputLayout: 'channelsFirst',
  weightPerms: () => [],
  emit({ b, forTraining }, node, x) {
    const g = pooling2dGeometry(node);
    const shape = channelsFirstShape(node.inputShape[2], g.output);
    const attrs = { kernel_shape: intsAttr(node.config.poolSize), strides: intsAttr(g.strides), pads: intsAttr(onnxPads(g)) };
    if (!forTraining) {
      return { z: { name: b.op('MaxPool', [x.name], shape, attrs, `${node.name}/maxpool`), perSample: node.outputShape, layout: 'channelsFirst' } };
    }
    const [z, indices] = b.opMulti('MaxPool', [x.name], [shape, shape], attrs, `${node.name}/maxpool`);
    return { z: { name: z, perSample: node.outputShape, layout: 'channelsFirst' }, saved: { indices } };
  },
};

/** maxPooling2d gradient: dz scattered (summed) into zeros at the argmax indices. */
export const maxPooling2dGradient: GradientRule<'maxPooling2d'> = ({ b, node, x, forward, dZ, needInputGrad }) => {
  if (!needInputGrad) return { dX: null, dWeights: [] };
  const [h, w, c] = node.inputShape;
  const [ho, wo] = node.outputShape;
  const flatIn = `N*${h * w * c}` as const;
  const flatOut = `N*${ho * wo * c}` as const;
  const size = b.op('Reshape', [b.op('Size', [x.name], [], {}, 'pool_size'), b.ints([1])], [1], {}, 'pool_size1');
  const zeros = b.op('ConstantOfShape', [size], [flatIn], {}, 'pool_zeros');
  const indices = b.op('Reshape', [forward.saved!.indices, b.ints([-1])], [flatOut], {}, 'pool_idx');
  const updates = b.op('Reshape', [dZ, b.ints([-1])], [flatOut], {}, 'pool_dz');
  const scattered = b.op('ScatterElements', [zeros, indices, updates], [flatIn], { axis: intAttr(0), reduction: stringAttr('add') }, 'pool_scatter');
  const dX = b.op('Reshape', [scattered, b.op('Shape', [x.name], [4], {}, 'pool_shape')], channelsFirstShape(c, [h, w]), {}, 'pool_dx');
  return { dX, dWeights: [] };
};
