import { NCHWC_DOMAIN } from './nchwc.js';
import type { BuiltNode, Dim, OnnxGraphBuilder } from './onnx-graph.js';

/** A generated model broke one of the structural rules; always a bug in this package. */
export class GeneratedModelError extends Error {
  constructor(graphName: string, message: string) {
    super(`generated ONNX model '${graphName}' is malformed: ${message}`);
    this.name = 'GeneratedModelError';
  }
}

type ShapeRule = (node: BuiltNode, inputs: readonly (readonly Dim[])[], outputs: readonly (readonly Dim[])[]) => string | null;

const fmt = (s: readonly Dim[]) => `[${s.join(', ')}]`;

function broadcast(shapes: readonly (readonly Dim[])[]): Dim[] | null {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const e = s[s.length - rank + i] ?? 1;
      if (e === 1) continue;
      if (d !== 1 && d !== e) return null;
      d = e;
    }
    out.push(d);
  }
  return out;
}

function same(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

const sameAsFirstInput: ShapeRule = (_n, ins, outs) => (same(ins[0], outs[0]) ? null : `output ${fmt(outs[0])} differs from input ${fmt(ins[0])}`);

const broadcasting: ShapeRule = (_n, ins, outs) => {
  const b = broadcast(ins);
  if (!b) return `inputs ${ins.map(fmt).join(', ')} do not broadcast`;
  return same(b, outs[0]) ? null : `output ${fmt(outs[0])}, broadcast gives ${fmt(b)}`;
};

/** Element count of a shape with the batch axis as a symbol: `[k, n]` for k·N^n. */
function count(s: readonly Dim[]): [number, number] {
  let k = 1;
  let n = 0;
  for (const d of s) {
    if (typeof d === 'number') k *= d;
    else {
      n++;
      if (d !== 'N') k *= Number(d.slice(2));
    }
  }
  return [k, n];
}

/** Checked shape of every op the generator emits; an op without a rule is itself an error. */
const SHAPE_RULES: Record<string, ShapeRule> = {
  Identity: sameAsFirstInput,
  Relu: sameAsFirstInput,
  Sigmoid: sameAsFirstInput,
  Tanh: sameAsFirstInput,
  Softmax: sameAsFirstInput,
  LogSoftmax: sameAsFirstInput,
  Neg: sameAsFirstInput,
  Sign: sameAsFirstInput,
  Abs: sameAsFirstInput,
  Exp: sameAsFirstInput,
  Log: sameAsFirstInput,
  Sqrt: sameAsFirstInput,
  Reciprocal: sameAsFirstInput,
  Softplus: sameAsFirstInput,
  Softsign: sameAsFirstInput,
  Elu: sameAsFirstInput,
  Selu: sameAsFirstInput,
  HardSigmoid: sameAsFirstInput,
  Erf: sameAsFirstInput,
  LeakyRelu: sameAsFirstInput,
  Clip: sameAsFirstInput,
  Ceil: sameAsFirstInput,
  Not: sameAsFirstInput,
  Cast: sameAsFirstInput,
  RandomUniformLike: sameAsFirstInput,
  ConstantOfShape: () => null,
  Add: broadcasting,
  Sub: broadcasting,
  Mul: broadcasting,
  Div: broadcasting,
  Pow: broadcasting,
  Max: broadcasting,
  Min: broadcasting,
  Sum: broadcasting,
  Equal: broadcasting,
  Or: broadcasting,
  Greater: broadcasting,
  GreaterOrEqual: broadcasting,
  LessOrEqual: broadcasting,
  Less: broadcasting,
  And: broadcasting,
  Where: broadcasting,
  Size: (_n, _i, outs) => (outs[0].length === 0 ? null : 'Size gives a scalar'),
  Shape: (_n, ins, outs) => (same(outs[0], [ins[0].length]) ? null : `Shape of rank ${ins[0].length} gives ${fmt(outs[0])}`),
  Transpose: (n, ins, outs) => {
    const perm = n.attributes.perm;
    if (!perm || perm.kind !== 'ints') return 'Transpose needs perm';
    const want = perm.value.map((p) => ins[0][p]);
    return perm.value.length === ins[0].length && same(want, outs[0])
      ? null
      : `perm [${perm.value}] of ${fmt(ins[0])} gives ${fmt(want)}, recorded ${fmt(outs[0])}`;
  },
  Reshape: (_n, ins, outs) => {
    const [a, b] = [count(ins[0]), count(outs[0])];
    return a[0] === b[0] && a[1] === b[1] ? null : `cannot reshape ${fmt(ins[0])} to ${fmt(outs[0])}`;
  },
  Flatten: (_n, ins, outs) => (count(ins[0])[0] === count(outs[0])[0] ? null : `cannot flatten ${fmt(ins[0])} to ${fmt(outs[0])}`),
  MatMul: (_n, ins, outs) => {
    const [a, b] = ins;
    if (a[a.length - 1] !== b[b.length - 2]) return `inner axes differ: ${fmt(a)} × ${fmt(b)}`;
    const batch = broadcast([a.slice(0, -2), b.slice(0, -2)]);
    const want = batch ? [...batch, a[a.length - 2], b[b.length - 1]] : null;
    return want && same(want, outs[0]) ? null : `${fmt(a)} × ${fmt(b)} recorded as ${fmt(outs[0])}`;
  },
  Gemm: (n, ins, outs) => {
    const ta = n.attributes.transA?.value === 1;
    const tb = n.attributes.transB?.value === 1;
    const [a, b] = ins;
    const [m, ka] = ta ? [a[1], a[0]] : [a[0], a[1]];
    const [kb, nn] = tb ? [b[1], b[0]] : [b[0], b[1]];
    if (ka !== kb) return `inner axes differ: ${fmt(a)} × ${fmt(b)}`;
    return same([m, nn], outs[0]) ? null : `Gemm gives [${m}, ${nn}], recorded ${fmt(outs[0])}`;
  },
  BatchNormalization: (_n, ins, outs) => {
    const [x, ...perChannel] = ins;
    const bad = perChannel.find((p) => !same(p, [x[1]]));
    if (bad) return `scale, bias, mean and variance must be [${x[1]}] (axis 1 of ${fmt(x)}), got ${fmt(bad)}`;
    return same(x, outs[0]) ? null : `output ${fmt(outs[0])} differs from input ${fmt(x)}`;
  },
  Conv: (n, ins, outs) => {
    const [x, w] = ins;
    const group = (n.attributes.group?.value as number | undefined) ?? 1;
    if (x.length !== w.length) return `input ${fmt(x)} and kernel ${fmt(w)} differ in rank`;
    const channelsAgree = typeof x[1] === 'number' && typeof w[1] === 'number' ? x[1] === w[1] * group : x[1] === w[1];
    if (!channelsAgree) return `input channels ${x[1]} ≠ kernel channels ${w[1]} × group ${group}`;
    if (outs[0][1] !== w[0] || outs[0][0] !== x[0]) return `output ${fmt(outs[0])} does not match batch ${x[0]} and filters ${w[0]}`;
    const { k, s, d, p } = convWindow(n, x, w);
    const r = x.length - 2;
    for (let i = 0; i < r; i++) {
      const xi = x[2 + i];
      if (typeof xi !== 'number') continue;
      const want = Math.floor((xi + p[i] + p[i + r] - ((k[i] - 1) * d[i] + 1)) / s[i]) + 1;
      if (outs[0][2 + i] !== want) return `spatial axis ${i}: conv of ${xi} gives ${want}, recorded ${outs[0][2 + i]}`;
    }
    return null;
  },
  ConvTranspose: (n, ins, outs) => {
    const [x, w] = ins;
    const group = (n.attributes.group?.value as number | undefined) ?? 1;
    if (x[1] !== w[0]) return `input channels ${x[1]} ≠ kernel axis 0 ${w[0]}`;
    if (outs[0][1] !== (w[1] as number) * group) return `output channels ${outs[0][1]} ≠ ${w[1]}·${group}`;
    const r = x.length - 2;
    const { k, s, d, p } = convWindow(n, x, w);
    const op = spatialInts(
      n,
      'output_padding',
      x.slice(2).map(() => 0),
    );
    for (let i = 0; i < r; i++) {
      const xi = x[2 + i] as number;
      const want = s[i] * (xi - 1) + op[i] + ((k[i] - 1) * d[i] + 1) - p[i] - p[i + r];
      if (outs[0][2 + i] !== want) return `spatial axis ${i}: transposed conv of ${xi} gives ${want}, recorded ${outs[0][2 + i]}`;
    }
    return null;
  },
  MaxPool: (n, ins, outs) => poolRule(n, ins[0], outs[0]) ?? (outs[1] && !same(outs[0], outs[1]) ? 'Indices shape differs from output' : null),
  AveragePool: (n, ins, outs) => poolRule(n, ins[0], outs[0]),
  // MaxUnpool inverts a MaxPool: pooling its output must give its input's shape.
  MaxUnpool: (n, ins, outs) => poolRule(n, outs[0], ins[0]) ?? (same(ins[0], ins[1]) ? null : 'Indices shape differs from X'),
  Resize: (_n, ins, outs) => (ins[0].length === outs[0].length ? null : 'Resize changes rank'),
  ReduceSum: reduceRule,
  ReduceMean: reduceRule,
  ReduceMax: reduceRule,
  ArgMax: (n, ins, outs) => {
    const r = ins[0].length;
    const axis = (n.attributes.axis?.value as number | undefined) ?? 0;
    const a = axis < 0 ? axis + r : axis;
    const want = n.attributes.keepdims?.value === 0 ? ins[0].filter((_, i) => i !== a) : ins[0].map((d, i) => (i === a ? 1 : d));
    return same(want, outs[0]) ? null : `ArgMax over axis ${axis} of ${fmt(ins[0])} gives ${fmt(want)}, recorded ${fmt(outs[0])}`;
  },
  GatherElements: (_n, ins, outs) => (same(ins[1], outs[0]) && ins[0].length === ins[1].length ? null : 'GatherElements output differs from its indices'),
  ScatterElements: (_n, ins, outs) => (same(ins[0], outs[0]) && same(ins[1], ins[2]) ? null : 'ScatterElements shapes disagree'),
  Slice: (_n, ins, outs) => (ins[0].length === outs[0].length ? null : 'Slice changes rank'),
  Pad: (_n, ins, outs) => (ins[0].length === outs[0].length ? null : 'Pad changes rank'),
  Concat: (n, ins, outs) => {
    const axis = n.attributes.axis?.value as number;
    const want = ins[0].map((d, i) => (i === axis ? ins.reduce((sum, s) => sum + (s[i] as number), 0) : d));
    return ins.every((s) => s.length === want.length && s.every((d, i) => i === axis || d === want[i])) && same(want, outs[0])
      ? null
      : `concatenating ${ins.map(fmt).join(', ')} on axis ${axis} gives ${fmt(want)}, recorded ${fmt(outs[0])}`;
  },
  DepthToSpace: (n, ins, outs) => {
    const bs = n.attributes.blocksize?.value as number;
    const [N, c, h, w] = ins[0];
    const want: Dim[] = [N, (c as number) / (bs * bs), (h as number) * bs, (w as number) * bs];
    return same(want, outs[0]) ? null : `DepthToSpace(${bs}) of ${fmt(ins[0])} gives ${fmt(want)}, recorded ${fmt(outs[0])}`;
  },
  SpaceToDepth: (n, ins, outs) => {
    const bs = n.attributes.blocksize?.value as number;
    const [N, c, h, w] = ins[0];
    const want: Dim[] = [N, (c as number) * bs * bs, (h as number) / bs, (w as number) / bs];
    return same(want, outs[0]) ? null : `SpaceToDepth(${bs}) of ${fmt(ins[0])} gives ${fmt(want)}, recorded ${fmt(outs[0])}`;
  },
  Expand: (_n, ins, outs) => (outs[0].length >= ins[0].length ? null : 'Expand lowers rank'),
};

function spatialInts(n: BuiltNode, name: string, fallback: readonly Dim[]): number[] {
  const a = n.attributes[name];
  return a && a.kind === 'ints' ? [...a.value] : (fallback as number[]);
}

/** Kernel, strides, dilations and pads of a Conv or ConvTranspose, with ONNX's defaults where an attribute is absent. */
function convWindow(n: BuiltNode, x: readonly Dim[], w: readonly Dim[]): { k: number[]; s: number[]; d: number[]; p: number[] } {
  const spatial = x.slice(2);
  return {
    k: spatialInts(n, 'kernel_shape', w.slice(2)),
    s: spatialInts(
      n,
      'strides',
      spatial.map(() => 1),
    ),
    d: spatialInts(
      n,
      'dilations',
      spatial.map(() => 1),
    ),
    p: spatialInts(
      n,
      'pads',
      [...spatial, ...spatial].map(() => 0),
    ),
  };
}

function poolRule(n: BuiltNode, x: readonly Dim[], y: readonly Dim[]): string | null {
  const r = x.length - 2;
  const k = spatialInts(n, 'kernel_shape', []);
  const s = spatialInts(
    n,
    'strides',
    x.slice(2).map(() => 1),
  );
  const p = spatialInts(
    n,
    'pads',
    [...x.slice(2), ...x.slice(2)].map(() => 0),
  );
  if (x[0] !== y[0] || x[1] !== y[1]) return `pool keeps batch and channels: ${fmt(x)} → ${fmt(y)}`;
  for (let i = 0; i < r; i++) {
    const want = Math.floor(((x[2 + i] as number) + p[i] + p[i + r] - k[i]) / s[i]) + 1;
    if (y[2 + i] !== want) return `spatial axis ${i}: pool of ${x[2 + i]} gives ${want}, recorded ${y[2 + i]}`;
  }
  return null;
}

function reduceRule(n: BuiltNode, ins: readonly (readonly Dim[])[], outs: readonly (readonly Dim[])[]): string | null {
  const keep = (n.attributes.keepdims?.value as number | undefined) ?? 1;
  const axesAttr = n.attributes.axes?.value as readonly number[] | undefined;
  if (axesAttr) {
    // Opset 17's ReduceMean/ReduceMax take their axes as an attribute.
    const norm = axesAttr.map((a) => (a < 0 ? a + ins[0].length : a));
    const want = ins[0].flatMap((d, i) => (norm.includes(i) ? (keep ? [1] : []) : [d]));
    return same(want, outs[0]) ? null : `reducing ${fmt(ins[0])} over [${axesAttr}] gives ${fmt(want)}, recorded ${fmt(outs[0])}`;
  }
  if (ins.length < 2) return keep === 0 ? (outs[0].length === 0 ? null : 'full reduction gives a scalar') : null;
  // The axes input is a constant recorded by the builder; its values are checked by the caller.
  return null;
}

/**
 * Attributes each op must carry explicitly, defaults included: providers
 * differ on defaults left out (ONNX Runtime Web's WebGPU provider rejects a
 * Conv without `dilations`), so generated models never rely on them.
 */
/**
 * Shape rules of the NCHWc-domain ops nchwc.ts's `blockConvolutions` emits, on
 * the logical (NCHW) shapes it records: the blocked layout has the same
 * element count when the channels are a whole number of blocks, which they
 * are between ReorderInput and ReorderOutput.
 */
const NCHWC_SHAPE_RULES: Record<string, ShapeRule> = {
  ReorderInput: sameAsFirstInput,
  // Keeps the first `channels` channels (the rest are a conv's zero-filter padding).
  ReorderOutput: (n, ins, outs) => {
    const channels = n.attributes.channels?.value as number | undefined;
    const want = [ins[0][0], channels ?? ins[0][1], ...ins[0].slice(2)];
    return same(want, outs[0]) && typeof ins[0][1] === 'number' && channels !== undefined && channels <= ins[0][1]
      ? null
      : `output ${fmt(outs[0])} is not the first ${channels} channels of ${fmt(ins[0])}`;
  },
  Conv: SHAPE_RULES.Conv,
};

const EXPLICIT_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  Conv: ['strides', 'dilations', 'pads', 'group'],
  ConvTranspose: ['strides', 'dilations', 'pads', 'group', 'output_padding'],
  MaxPool: ['kernel_shape', 'strides', 'pads', 'dilations'],
  AveragePool: ['kernel_shape', 'strides', 'pads', 'count_include_pad'],
};

/**
 * Structural checks run on every generated model before it is encoded:
 * unique node names, single assignment of every value, every input produced
 * before use, every output produced, the shape each op gives consistent
 * with the shape the generator recorded for it, and convolutions and
 * poolings with every attribute explicit ({@link EXPLICIT_ATTRIBUTES}).
 * @throws GeneratedModelError naming the first broken rule.
 */
export function checkBuiltGraph(b: OnnxGraphBuilder, graphName: string): void {
  const fail = (m: string): never => {
    throw new GeneratedModelError(graphName, m);
  };
  const defined = new Set<string>();
  for (const v of [...b.inputs, ...b.initializers]) {
    if (defined.has(v.name)) fail(`value ${v.name} is defined twice`);
    defined.add(v.name);
  }
  const nodeNames = new Set<string>();
  const axesValues = new Map(b.initializers.filter((t) => t.type === 'int64').map((t) => [t.name, Array.from(t.data as BigInt64Array, Number)]));
  for (const n of b.nodes) {
    if (nodeNames.has(n.name)) fail(`node name ${n.name} is used twice`);
    nodeNames.add(n.name);
    for (const i of n.inputs) if (i !== '' && !defined.has(i)) fail(`node ${n.name} (${n.opType}) reads ${i} before it is produced`);
    for (const o of n.outputs) {
      if (defined.has(o)) fail(`value ${o} is produced twice`);
      defined.add(o);
    }
    const rule =
      (n.domain ? (n.domain === NCHWC_DOMAIN ? NCHWC_SHAPE_RULES[n.opType] : undefined) : SHAPE_RULES[n.opType]) ??
      fail(`node ${n.name} uses ${n.domain ? `${n.domain}.` : ''}${n.opType}, which has no shape rule`);
    const ins = n.inputs.map((i) => (i === '' ? [] : b.shapeOf(i)));
    const outs = n.outputs.map((o) => b.shapeOf(o));
    const problem = rule(n, ins, outs);
    if (problem) fail(`node ${n.name} (${n.opType}): ${problem}`);
    const missing = (EXPLICIT_ATTRIBUTES[n.opType] ?? []).filter((a) => !(a in n.attributes));
    if (missing.length > 0) fail(`node ${n.name} (${n.opType}) leaves ${missing.join(', ')} implicit`);
    if ((n.opType === 'ReduceSum' || n.opType === 'ReduceMean') && n.inputs[1]) {
      const axes = axesValues.get(n.inputs[1]);
      if (!axes) fail(`node ${n.name}: axes must be a constant`);
      const keep = (n.attributes.keepdims?.value as number | undefined) ?? 1;
      const r = ins[0].length;
      const norm = axes!.map((a) => (a < 0 ? a + r : a));
      const want = ins[0].flatMap((d, i) => (norm.includes(i) ? (keep ? [1] : []) : [d]));
      if (!same(want, outs[0])) fail(`node ${n.name} (${n.opType}): reducing ${fmt(ins[0])} over [${axes}] gives ${fmt(want)}, recorded ${fmt(outs[0])}`);
    }
  }
  const outNames = new Set<string>();
  for (const o of b.outputs) {
    if (!defined.has(o.name)) fail(`output ${o.name} is never produced`);
    if (outNames.has(o.name)) fail(`output ${o.name} is declared twice`);
    outNames.add(o.name);
  }
  for (const i of b.inputs) if (outNames.has(i.name)) fail(`value ${i.name} is both an input and an output`);
}
