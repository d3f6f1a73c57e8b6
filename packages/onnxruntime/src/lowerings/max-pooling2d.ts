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
  selectsInput: true,
  emit({ b, forTraining }, node, [x]) {
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

/**
 * maxPooling2d gradient: each window's dz goes to its argmax (the `Indices`
 * MaxPool kept, so exactly one winner per window, the first in row-major
 * order). When windows cannot overlap (strides ≥ pool size) no input position
 * receives two values, so ONNX MaxUnpool (one pass writing dz at the indices
 * into zeros) is the scatter on the CPU; overlapping windows, and the CUDA
 * provider (which has no MaxUnpool kernel), use the summing
 * ScatterElements(add) on flat copies.
 */
export const maxPooling2dGradient: GradientRule<'maxPooling2d'> = ({ b, node, xs: [x], forward, dZ, needInputGrad, provider }) => {
  if (!needInputGrad) return { dXs: [null], dWeights: [] };
  const [h, w, c] = node.inputShape;
  const inShape = channelsFirstShape(c, [h, w]);
  const indices = forward.saved!.indices;
  const g = pooling2dGeometry(node);
  if (provider === 'cpu' && g.strides.every((s, i) => s >= g.kernel[i])) {
    const attrs = { kernel_shape: intsAttr(node.config.poolSize), strides: intsAttr(g.strides), pads: intsAttr(onnxPads(g)) };
    return { dXs: [b.op('MaxUnpool', [dZ, indices, b.op('Shape', [x.name], [4], {}, 'pool_shape')], inShape, attrs, 'pool_dx')], dWeights: [] };
  }
  const [ho, wo] = node.outputShape;
  const flatIn = `N*${h * w * c}` as const;
  const flatOut = `N*${ho * wo * c}` as const;
  const size = b.op('Reshape', [b.op('Size', [x.name], [], {}, 'pool_size'), b.ints([1])], [1], {}, 'pool_size1');
  const zeros = b.op('ConstantOfShape', [size], [flatIn], {}, 'pool_zeros');
  const flatIndices = b.op('Reshape', [indices, b.ints([-1])], [flatOut], {}, 'pool_idx');
  const updates = b.op('Reshape', [dZ, b.ints([-1])], [flatOut], {}, 'pool_dz');
  const scattered = b.op('ScatterElements', [zeros, flatIndices, updates], [flatIn], { axis: intAttr(0), reduction: stringAttr('add') }, 'pool_scatter');
  const dX = b.op('Reshape', [scattered, b.op('Shape', [x.name], [4], {}, 'pool_shape')], inShape, {}, 'pool_dx');
  return { dXs: [dX], dWeights: [] };
};
