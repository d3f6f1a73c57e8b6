import { intAttr, intsAttr, stringAttr, type Dim, type OnnxGraphBuilder } from '../onnx-graph.js';
import { channelsFirstShape, convGeometry, emitPerChannelConvTranspose, emitTapCopies, onnxPads, type ConvGeometry } from './conv-common.js';
import type { ForwardLowering, GradientRule, NodeOf } from './types.js';

/** Geometry of a 2-D pooling node (also used by average pooling). */
export function pooling2dGeometry(node: NodeOf<'maxPooling2d' | 'averagePooling2d'>) {
  const c = node.config;
  return convGeometry(node.inputShape.slice(0, 2), c.poolSize, c.strides, [1, 1], c.padding);
}

/** MaxPool's attributes, every one explicit (WebGPU providers reject some defaults left out). */
function maxPoolAttrs(node: NodeOf<'maxPooling2d'>, g: ConvGeometry) {
  return { kernel_shape: intsAttr(node.config.poolSize), strides: intsAttr(g.strides), pads: intsAttr(onnxPads(g)), dilations: intsAttr([1, 1]) };
}

/**
 * maxPooling2d: ONNX MaxPool in NCHW; ONNX ignores padded positions in the
 * max, as Keras's −∞ padding does. For training on the CPU and CUDA it also
 * keeps `Indices` (flat over N·C·H·W) for the gradient; ONNX Runtime's
 * WebGPU provider has no MaxPool with `Indices`, so there the gradient
 * finds each window's winner itself ({@link emitFirstMaxGradient}).
 */
export const maxPooling2dLowering: ForwardLowering<'maxPooling2d'> = {
  inputLayout: 'channelsFirst',
  weightPerms: () => [],
  selectsInput: true,
  emit({ b, forTraining, provider }, node, [x]) {
    const g = pooling2dGeometry(node);
    const shape = channelsFirstShape(node.inputShape[2], g.output);
    const attrs = maxPoolAttrs(node, g);
    if (!forTraining || provider === 'webgpu') {
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
 * ScatterElements(add) on flat copies. On WebGPU, see {@link emitFirstMaxGradient}.
 */
export const maxPooling2dGradient: GradientRule<'maxPooling2d'> = ({ b, node, xs: [x], forward, dZ, needInputGrad, provider }) => {
  if (!needInputGrad) return { dXs: [null], dWeights: [] };
  const [h, w, c] = node.inputShape;
  const inShape = channelsFirstShape(c, [h, w]);
  const g = pooling2dGeometry(node);
  if (provider === 'webgpu') return { dXs: [emitFirstMaxGradient(b, x.name, forward.z.name, dZ, g, c)], dWeights: [] };
  const indices = forward.saved!.indices;
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

/**
 * Max-pooling gradient from the input and the pooled output alone (no
 * `Indices`), in ops ONNX Runtime's WebGPU provider has kernels for (and
 * computes right: no grouped convolutions), with
 * the same rule: each window's dz goes to its first maximum in row-major
 * order. The window taps of x are copied out (`[N, C, k, P]`, the one-hot
 * Conv of {@link emitTapCopies}; padded taps get −∞ added, so they never
 * win, as in MaxPool); a tap wins where it equals the window's maximum and
 * no earlier tap does (the earlier equal taps counted by one MatMul with a
 * strictly lower-triangular matrix of ones: exact small integers); the
 * winners times dz are spread back onto x by a ConvTranspose with the same
 * one-hot kernel, which sums where windows overlap.
 */
function emitFirstMaxGradient(b: OnnxGraphBuilder, x: string, y: string, dZ: string, g: ConvGeometry, channels: number): string {
  const k = g.kernel[0] * g.kernel[1];
  const positions = g.output[0] * g.output[1];
  const flat: Dim[] = ['N', channels, k, positions];
  const copies = emitTapCopies(
    b,
    x,
    channels,
    g.kernel,
    { strides: g.strides, dilations: g.dilations, pads: onnxPads(g), reversed: false },
    g.output,
    'webgpu',
  );
  let taps = b.op('Reshape', [copies, b.ints([0, channels, k, positions])], flat, {}, 'pool_taps');
  if ([...g.before, ...g.after].some((p) => p > 0)) {
    const outside = new Float32Array(k * positions);
    for (let t = 0; t < k; t++) {
      const [r, s] = [Math.floor(t / g.kernel[1]), t % g.kernel[1]];
      for (let p = 0; p < positions; p++) {
        const row = Math.floor(p / g.output[1]) * g.strides[0] - g.before[0] + r;
        const col = (p % g.output[1]) * g.strides[1] - g.before[1] + s;
        if (row < 0 || row >= g.input[0] || col < 0 || col >= g.input[1]) outside[t * positions + p] = -Infinity;
      }
    }
    taps = b.op('Add', [taps, b.floatConstant('pool_padding_mask', [k, positions], outside)], flat, {}, 'pool_taps_masked');
  }
  const maxima = b.op('Reshape', [y, b.ints([0, channels, 1, positions])], ['N', channels, 1, positions], {}, 'pool_max');
  const equal = b.op('Cast', [b.op('Equal', [taps, maxima], flat, {}, 'pool_is_max')], flat, { to: intAttr(1) }, 'pool_is_max_float');
  const lower = new Float32Array(k * k);
  for (let t = 0; t < k; t++) for (let u = 0; u < t; u++) lower[t * k + u] = 1;
  const earlier = b.op('MatMul', [b.floatConstant('pool_earlier', [k, k], lower), equal], flat, {}, 'pool_earlier_max');
  const first = b.op(
    'Mul',
    [equal, b.op('Relu', [b.op('Sub', [b.scalar(1), earlier], flat, {}, 'pool_none_earlier')], flat, {}, 'pool_first')],
    flat,
    {},
    'pool_winner',
  );
  const dzColumn = b.op('Reshape', [dZ, b.ints([0, channels, 1, positions])], ['N', channels, 1, positions], {}, 'pool_dz');
  const routed = b.op('Mul', [first, dzColumn], flat, {}, 'pool_dz_routed');
  const grid = b.op('Reshape', [routed, b.ints([0, channels * k, ...g.output])], channelsFirstShape(channels * k, g.output), {}, 'pool_dz_taps');
  const oneHot = new Float32Array(k * k);
  for (let t = 0; t < k; t++) oneHot[t * k + t] = 1;
  const outputPadding = g.input.map((n, i) => n - ((g.output[i] - 1) * g.strides[i] + g.kernel[i] - g.before[i] - g.after[i]));
  return emitPerChannelConvTranspose(
    b,
    grid,
    { shape: [k, 1, ...g.kernel], data: oneHot },
    channels,
    { strides: g.strides, dilations: g.dilations, pads: onnxPads(g), outputPadding },
    g.input,
    'webgpu',
    'pool_dx',
  );
}
