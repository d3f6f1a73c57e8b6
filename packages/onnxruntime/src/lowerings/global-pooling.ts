import { layoutAxis, layoutShape, type Value } from '../layout.js';
import { intAttr, intsAttr, type Dim } from '../onnx-graph.js';
import type { ForwardLowering, GradientRule, LoweredForward, NodeOf } from './types.js';

type GlobalKind = 'globalAveragePooling2d' | 'globalMaxPooling2d' | 'globalAveragePooling1d' | 'globalMaxPooling1d';

/** The spatial axes of `x` (every per-sample axis but the channels) in its layout. */
function spatialAxes(x: Value): number[] {
  const rank = x.perSample.length;
  return Array.from({ length: rank - 1 }, (_, axis) => layoutAxis(rank, axis, x.layout));
}

/** The pooled value with its spatial axes kept as 1s, in x's layout. */
function keptShape(x: Value): Dim[] {
  return layoutShape([...x.perSample.slice(0, -1).map(() => 1), x.perSample[x.perSample.length - 1]], x.layout);
}

/**
 * A global pooling as one ONNX reduction over the spatial axes, in whatever
 * layout the input has; without keepdims a Reshape drops the 1s. Saves the
 * kept result (`kept`) for the gradient.
 */
function globalLowering<K extends GlobalKind>(op: 'ReduceMean' | 'ReduceMax'): ForwardLowering<K> {
  return {
    inputLayout: 'any',
    weightPerms: () => [],
    emit({ b }, n, [x]): LoweredForward {
      const node = n as NodeOf<GlobalKind>;
      const kept = b.op(op, [x.name], keptShape(x), { axes: intsAttr(spatialAxes(x)), keepdims: intAttr(1) }, `${node.name}/pool`);
      if (node.config.keepdims) return { z: { name: kept, perSample: node.outputShape, layout: x.layout }, saved: { kept } };
      const z = b.op('Reshape', [kept, b.ints([0, -1])], ['N', ...node.outputShape], {}, `${node.name}/squeeze`);
      return { z: { name: z, perSample: node.outputShape, layout: 'keras' }, saved: { kept } };
    },
  };
}

/** dz with the spatial axes as 1s, in x's layout. */
function keptGrad(b: Parameters<GradientRule<GlobalKind>>[0]['b'], x: Value, dZ: string): string {
  const shape = keptShape(x);
  return b.op('Reshape', [dZ, b.ints(shape.map((d) => (d === 'N' ? 0 : (d as number))))], shape, {}, 'global_dz');
}

/** Global average pooling gradient: dz / count, broadcast to every position. */
function averageGradient<K extends GlobalKind>(): GradientRule<K> {
  return ({ b, xs: [x], dZ, needInputGrad }) => {
    if (!needInputGrad) return { dXs: [null], dWeights: [] };
    const shape = layoutShape(x.perSample, x.layout);
    const count = x.perSample.slice(0, -1).reduce((p, d) => p * d, 1);
    const share = b.op('Mul', [keptGrad(b, x, dZ), b.scalar(1 / count)], keptShape(x), {}, 'global_mean_share');
    return { dXs: [b.op('Expand', [share, b.op('Shape', [x.name], [shape.length], {}, 'global_shape')], shape, {}, 'global_mean_dx')], dWeights: [] };
  };
}

/**
 * Global max pooling gradient, TensorFlow's `reduce_max` rule: dz split
 * evenly among the positions equal to the maximum.
 */
function maxGradient<K extends GlobalKind>(): GradientRule<K> {
  return ({ b, xs: [x], forward, dZ, needInputGrad }) => {
    if (!needInputGrad) return { dXs: [null], dWeights: [] };
    const shape = layoutShape(x.perSample, x.layout);
    const ties = b.op('Cast', [b.op('Equal', [x.name, forward.saved!.kept], shape, {}, 'global_max_is_max')], shape, { to: intAttr(1) }, 'global_max_ties');
    const count = b.op('ReduceSum', [ties, b.ints(spatialAxes(x))], keptShape(x), { keepdims: intAttr(1) }, 'global_max_count');
    const share = b.op('Div', [keptGrad(b, x, dZ), count], keptShape(x), {}, 'global_max_share');
    return { dXs: [b.op('Mul', [ties, share], shape, {}, 'global_max_dx')], dWeights: [] };
  };
}

/** globalAveragePooling2d: ReduceMean over rows and columns. */
export const globalAveragePooling2dLowering = globalLowering<'globalAveragePooling2d'>('ReduceMean');
/** globalAveragePooling2d gradient. */
export const globalAveragePooling2dGradient = averageGradient<'globalAveragePooling2d'>();
/** globalMaxPooling2d: ReduceMax over rows and columns. */
export const globalMaxPooling2dLowering = globalLowering<'globalMaxPooling2d'>('ReduceMax');
/** globalMaxPooling2d gradient. */
export const globalMaxPooling2dGradient = maxGradient<'globalMaxPooling2d'>();
/** globalAveragePooling1d: ReduceMean over the steps. */
export const globalAveragePooling1dLowering = globalLowering<'globalAveragePooling1d'>('ReduceMean');
/** globalAveragePooling1d gradient. */
export const globalAveragePooling1dGradient = averageGradient<'globalAveragePooling1d'>();
/** globalMaxPooling1d: ReduceMax over the steps. */
export const globalMaxPooling1dLowering = globalLowering<'globalMaxPooling1d'>('ReduceMax');
/** globalMaxPooling1d gradient. */
export const globalMaxPooling1dGradient = maxGradient<'globalMaxPooling1d'>();
