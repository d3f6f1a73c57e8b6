import { concatAxis, type ElementwiseMergeKind } from '@araboza/core';
import { layoutAxis, layoutShape, type Value } from '../layout.js';
import { intAttr, type Dim, type OnnxGraphBuilder } from '../onnx-graph.js';
import type { ResolvedDevice } from '../device.js';
import type { ForwardLowering, GradientRule, LoweredForward, NodeOf } from './types.js';

/** The output value of a merge: its inputs' layout (they share one, see {@link ForwardLowering.inputLayout}). */
function merged(node: NodeOf<ElementwiseMergeKind | 'concatenate'>, xs: readonly Value[], name: string): LoweredForward {
  return { z: { name, perSample: node.outputShape, layout: xs[0].layout } };
}

/** An element-wise merge: the ONNX op folding all inputs at once (variadic) or pairwise. */
function elementwise<K extends ElementwiseMergeKind>(
  fold: (b: OnnxGraphBuilder, xs: readonly string[], shape: readonly Dim[], hint: string, provider: ResolvedDevice) => string,
): ForwardLowering<K> {
  return {
    inputLayout: 'any',
    weightPerms: () => [],
    emit({ b, provider }, kindNode, xs) {
      const node = kindNode as NodeOf<ElementwiseMergeKind>;
      const shape = layoutShape(node.outputShape, xs[0].layout);
      return merged(
        node,
        xs,
        fold(
          b,
          xs.map((x) => x.name),
          shape,
          `${node.name}/${node.kind}`,
          provider,
        ),
      );
    },
  };
}

/** Folds `xs` with a binary op, left to right. */
const pairwise = (op: string) => (b: OnnxGraphBuilder, xs: readonly string[], shape: readonly Dim[], hint: string) =>
  xs.slice(1).reduce((acc, x) => b.op(op, [acc, x], shape, {}, hint), xs[0]);

/**
 * Sum of every input: one Add for two, one variadic Sum for more, except on
 * WebGPU, which has no Sum kernel (ONNX Runtime 1.30): Adds left to right there.
 */
const sum = (b: OnnxGraphBuilder, xs: readonly string[], shape: readonly Dim[], hint: string, provider: ResolvedDevice) =>
  xs.length === 2 || provider !== 'webgpu' ? b.op(xs.length === 2 ? 'Add' : 'Sum', [...xs], shape, {}, hint) : pairwise('Add')(b, xs, shape, hint);

/** add: the element-wise sum. */
export const addLowering: ForwardLowering<'add'> = elementwise(sum);
/** subtract: x₀ − x₁ (exactly two inputs, checked by core). */
export const subtractLowering: ForwardLowering<'subtract'> = elementwise(pairwise('Sub'));
/** multiply: the element-wise product. */
export const multiplyLowering: ForwardLowering<'multiply'> = elementwise(pairwise('Mul'));
/** average: the sum times 1/n. */
export const averageLowering: ForwardLowering<'average'> = elementwise((b, xs, shape, hint, provider) =>
  b.op('Mul', [sum(b, xs, shape, hint, provider), b.scalar(1 / xs.length)], shape, {}, hint),
);
/** maximum: ONNX's variadic Max. */
export const maximumLowering: ForwardLowering<'maximum'> = elementwise((b, xs, shape, hint) => b.op('Max', [...xs], shape, {}, hint));
/** minimum: ONNX's variadic Min. */
export const minimumLowering: ForwardLowering<'minimum'> = elementwise((b, xs, shape, hint) => b.op('Min', [...xs], shape, {}, hint));

/** add gradient: dz to every input. */
export const addGradient: GradientRule<'add'> = ({ xs, dZ, needInputGrad }) => ({ dXs: xs.map(() => (needInputGrad ? dZ : null)), dWeights: [] });

/** subtract gradient: dz to x₀, −dz to x₁. */
export const subtractGradient: GradientRule<'subtract'> = ({ b, node, xs, dZ, needInputGrad }) => {
  if (!needInputGrad) return { dXs: xs.map(() => null), dWeights: [] };
  return { dXs: [dZ, b.op('Neg', [dZ], layoutShape(node.outputShape, xs[0].layout), {}, 'subtract_dx')], dWeights: [] };
};

/** multiply gradient: dxᵢ = dz · Π_{j≠i} xⱼ. */
export const multiplyGradient: GradientRule<'multiply'> = ({ b, node, xs, dZ, needInputGrad }) => {
  if (!needInputGrad) return { dXs: xs.map(() => null), dWeights: [] };
  const shape = layoutShape(node.outputShape, xs[0].layout);
  const dXs = xs.map((_, i) => {
    const others = xs.filter((__, j) => j !== i).map((x) => x.name);
    return pairwise('Mul')(b, [dZ, ...others], shape, 'multiply_dx');
  });
  return { dXs, dWeights: [] };
};

/** average gradient: dz/n to every input. */
export const averageGradient: GradientRule<'average'> = ({ b, node, xs, dZ, needInputGrad }) => {
  if (!needInputGrad) return { dXs: xs.map(() => null), dWeights: [] };
  const share = b.op('Mul', [dZ, b.scalar(1 / xs.length)], layoutShape(node.outputShape, xs[0].layout), {}, 'average_dx');
  return { dXs: xs.map(() => share), dWeights: [] };
};

/**
 * maximum/minimum gradient, TensorFlow's rule: each element's dz goes whole
 * to the lowest-index input equal to the output there (Keras folds
 * `maximum(x₀, x₁)` pairwise and TF's gradient of `maximum` picks `x >= y`,
 * so among tied inputs the first wins); the others get 0.
 */
function extremumGradient<K extends 'maximum' | 'minimum'>(): GradientRule<K> {
  return ({ b, node: kindNode, xs, forward, dZ, needInputGrad }) => {
    const node = kindNode as NodeOf<'maximum' | 'minimum'>;
    if (!needInputGrad) return { dXs: xs.map(() => null), dWeights: [] };
    const shape = layoutShape(node.outputShape, xs[0].layout);
    const zero = b.scalar(0);
    // `taken`: elements whose dz an earlier input already received.
    let taken: string | null = null;
    const dXs = xs.map((x, i) => {
      const hit = b.op('Equal', [x.name, forward.z.name], shape, {}, `${node.kind}_tie`);
      const mask: string = taken === null ? hit : b.op('And', [hit, b.op('Not', [taken], shape, {}, `${node.kind}_free`)], shape, {}, `${node.kind}_mask`);
      if (i < xs.length - 1) taken = taken === null ? hit : b.op('Or', [taken, hit], shape, {}, `${node.kind}_taken`);
      return b.op('Where', [mask, dZ, zero], shape, {}, `${node.kind}_dx`);
    });
    return { dXs, dWeights: [] };
  };
}

/** maximum gradient (see {@link extremumGradient}). */
export const maximumGradient: GradientRule<'maximum'> = extremumGradient<'maximum'>();
/** minimum gradient (see {@link extremumGradient}). */
export const minimumGradient: GradientRule<'minimum'> = extremumGradient<'minimum'>();

/** The concatenation axis of a node, on the full-rank tensor in `layout`. */
function onnxConcatAxis(node: NodeOf<'concatenate'>, layout: Value['layout']): number {
  const rank = node.outputShape.length;
  return layoutAxis(rank, concatAxis(node.config.axis, rank, node.name), layout);
}

/** concatenate: one Concat on the Keras axis mapped to the inputs' layout. */
export const concatenateLowering: ForwardLowering<'concatenate'> = {
  inputLayout: 'any',
  weightPerms: () => [],
  emit({ b }, node, xs) {
    const shape = layoutShape(node.outputShape, xs[0].layout);
    const axis = onnxConcatAxis(node, xs[0].layout);
    return merged(
      node,
      xs,
      b.op(
        'Concat',
        xs.map((x) => x.name),
        shape,
        { axis: intAttr(axis) },
        `${node.name}/concat`,
      ),
    );
  },
};

/** concatenate gradient: each input gets its slice of dz along the axis. */
export const concatenateGradient: GradientRule<'concatenate'> = ({ b, node, xs, dZ, needInputGrad }) => {
  if (!needInputGrad) return { dXs: xs.map(() => null), dWeights: [] };
  const axis = onnxConcatAxis(node, xs[0].layout);
  const perAxis = concatAxis(node.config.axis, node.outputShape.length, node.name);
  let start = 0;
  const dXs = xs.map((x, i) => {
    const length = node.inputShapes[i][perAxis];
    const dX = b.op('Slice', [dZ, b.ints([start]), b.ints([start + length]), b.ints([axis])], layoutShape(x.perSample, x.layout), {}, 'concat_dx');
    start += length;
    return dX;
  });
  return { dXs, dWeights: [] };
};
