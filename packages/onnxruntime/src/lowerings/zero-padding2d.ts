import { layoutAxis, layoutShape, type Value } from '../layout.js';
import type { Dim, OnnxGraphBuilder } from '../onnx-graph.js';
import type { ForwardLowering, GradientRule } from './types.js';

/**
 * ONNX Pad's `pads` (all befores, then all afters) for `[[top, bottom],
 * [left, right]]` on a `[h, w, c]` value in `layout`.
 */
export function sidePads(sides: readonly (readonly [number, number])[], v: Pick<Value, 'perSample' | 'layout'>): number[] {
  const before = [0, 0, 0, 0];
  const after = [0, 0, 0, 0];
  sides.forEach(([lo, hi], axis) => {
    const a = layoutAxis(3, axis, v.layout);
    before[a] = lo;
    after[a] = hi;
  });
  return [...before, ...after];
}

/** The rows and columns `[[top, bottom], [left, right]]` inside a `[h, w, c]` value: a Slice of it. */
export function sliceSides(b: OnnxGraphBuilder, from: string, sides: readonly (readonly [number, number])[], v: Value, out: Value, hint: string): string {
  const axes = [0, 1].map((axis) => layoutAxis(3, axis, v.layout));
  const starts = sides.map(([lo]) => lo);
  const ends = sides.map(([lo], axis) => lo + out.perSample[axis]);
  return b.op('Slice', [from, b.ints(starts), b.ints(ends), b.ints(axes)], layoutShape(out.perSample, out.layout), {}, hint);
}

/**
 * `value` padded with zeros by `pads` (ONNX Pad's begin-then-end list) to
 * `shape`. The fill is −0, given explicitly: onnxruntime's PadFusion folds a
 * Pad whose value is all-zero bytes into a following Conv's, MaxPool's or
 * AveragePool's `pads` without checking what those pads mean there. MaxPool
 * treats them as −∞ (a window of negative values then loses the zero),
 * AveragePool without `count_include_pad` leaves them out of the count, and
 * a pad as wide as the window fails the session. −0 equals 0 in every
 * comparison and sum, but its sign bit keeps the Pad out of that rewrite.
 */
export function emitZeroPad(b: OnnxGraphBuilder, value: string, pads: readonly number[], shape: readonly Dim[], hint: string): string {
  const fill = b.floatConstant(`${hint}_value`, [], Float32Array.of(-0));
  return b.op('Pad', [value, b.ints(pads), fill], shape, {}, hint);
}

/** zeroPadding2d: ONNX Pad with zeros ({@link emitZeroPad}), in whatever layout the input has. */
export const zeroPadding2dLowering: ForwardLowering<'zeroPadding2d'> = {
  inputLayout: 'any',
  weightPerms: () => [],
  emit({ b }, node, [x]) {
    const z = emitZeroPad(b, x.name, sidePads(node.config.padding, x), layoutShape(node.outputShape, x.layout), `${node.name}/pad`);
    return { z: { name: z, perSample: node.outputShape, layout: x.layout } };
  },
};

/** zeroPadding2d gradient: dz without the padded rows and columns (a Slice). */
export const zeroPadding2dGradient: GradientRule<'zeroPadding2d'> = ({ b, node, xs: [x], forward, dZ, needInputGrad }) => ({
  dXs: [needInputGrad ? sliceSides(b, dZ, node.config.padding, forward.z, x, 'unpad_dx') : null],
  dWeights: [],
});
