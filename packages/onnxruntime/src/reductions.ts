import { intAttr, type Dim, type OnnxGraphBuilder } from './onnx-graph.js';

/** ONNX TensorProto element types. */
const FLOAT = 1;
const DOUBLE = 11;

/**
 * Σ of `value` (of `shape`) over `axes`, float32 in and out but accumulated
 * in float64: the last axis, when summed and not alone, first in float32
 * (a short contiguous run), then everything else after a Cast to double.
 * ONNX Runtime's float32 ReduceSum/ReduceMean over a 256×28×28×4 batch is
 * off by about 1e−4 relative; this stays at float32's rounding, for a cast
 * of a tensor already reduced along its last axis.
 */
export function emitAccurateSum(
  b: OnnxGraphBuilder,
  value: string,
  shape: readonly Dim[],
  axes: readonly number[],
  outShape: readonly Dim[],
  hint: string,
): string {
  const last = shape.length - 1;
  let v = value;
  let vShape = shape;
  let rest = axes.map((a) => (a < 0 ? a + shape.length : a));
  if (rest.length > 1 && rest.includes(last)) {
    v = b.op('ReduceSum', [v, b.ints([last])], shape.slice(0, -1), { keepdims: intAttr(0) }, `${hint}_last`);
    vShape = shape.slice(0, -1);
    rest = rest.filter((a) => a !== last);
  }
  const wide = b.op('Cast', [v], vShape, { to: intAttr(DOUBLE) }, `${hint}_f64`);
  const sum = b.op('ReduceSum', [wide, b.ints(rest)], outShape, { keepdims: intAttr(0) }, `${hint}_sum_f64`);
  return b.op('Cast', [sum], outShape, { to: intAttr(FLOAT) }, hint);
}
