import type { ActivationName } from '@araboza/core';
import { intAttr, intsAttr, type Dim, type OnnxGraphBuilder } from '../onnx-graph.js';
import { channelsFirstShape, convGeometry, emitChannelBiasGrad, emitConvInputGrad, emitInputTapRows, type ConvGeometry } from './conv-common.js';
import { conv2dLowering } from './conv2d.js';
import { pooling2dGeometry } from './max-pooling2d.js';
import type { ForwardLowering, GradientRule, NodeOf } from './types.js';

/**
 * Activations that commute with a maximum (elementwise and non-decreasing:
 * max f(zᵢ) = f(max zᵢ)), so the fused pair can apply them after the pooling.
 */
export const MONOTONE_ACTIVATIONS: ReadonlySet<ActivationName> = new Set(['linear', 'relu', 'sigmoid', 'tanh']);

/**
 * Largest im2col row count (input channels × phase-window taps) fused. The
 * phase kernels are mostly zeros (a k×k kernel placed in a (k+p−1)² window
 * once per phase), so with many input channels the extra multiply-adds
 * outweigh what the fusion saves (the pooling's `Indices` and the scatter
 * back). Measured on the MNIST autoencoder, whose first layer (1 channel,
 * 16 taps) gains and whose second (16 channels, 256 taps) does not.
 */
const MAX_FUSED_ROWS = 64;

/**
 * How a stride-1 conv2d followed by a non-overlapping max pooling (pool
 * p×q, strides p×q) maps onto the conv's input: the conv output at pool
 * window (i, j), phase (a, c) is the conv at row p·i + a, column q·j + c,
 * which reads the input window of (p + kh − 1)×(q + kw − 1) pixels at row
 * p·i − before, column q·j − before: one strided im2col (`g`) serves every
 * phase, with a phase kernel per (a, c) (the kernel shifted by (a, c) in
 * that window, zeros elsewhere).
 */
export interface PooledPlan {
  /** Pool size (= strides) per axis. */
  readonly pool: readonly [number, number];
  /** Geometry of the phase windows on the conv input; its output is the pooled grid. */
  readonly g: ConvGeometry;
  readonly kh: number;
  readonly kw: number;
  readonly cin: number;
  readonly filters: number;
}

function plan(conv: NodeOf<'conv2d'>, pool: NodeOf<'maxPooling2d'>): PooledPlan | null {
  const c = conv.config;
  if (c.strides.some((v) => v !== 1) || c.dilationRate.some((v) => v !== 1) || !MONOTONE_ACTIVATIONS.has(c.activation)) return null;
  const pg = pooling2dGeometry(pool);
  if (pg.strides.some((s, i) => s !== pg.kernel[i]) || [...pg.before, ...pg.after].some((v) => v !== 0)) return null;
  const cg = convGeometry(conv.inputShape.slice(0, 2), c.kernelSize, c.strides, c.dilationRate, c.padding);
  const window = pg.kernel.map((p, i) => p + c.kernelSize[i] - 1);
  // Padding after each axis so that the strided windows give exactly the pooled grid; negative when
  // the pooling drops conv rows the input does not have beyond (a `valid` remainder): not fused.
  const after = pg.output.map((o, i) => (o - 1) * pg.kernel[i] + window[i] - conv.inputShape[i] - cg.before[i]);
  if (after.some((v) => v < 0)) return null;
  const g: ConvGeometry = {
    input: conv.inputShape.slice(0, 2),
    output: pg.output,
    kernel: window,
    strides: pg.kernel,
    dilations: [1, 1],
    before: cg.before,
    after,
  };
  return { pool: [pg.kernel[0], pg.kernel[1]], g, kh: c.kernelSize[0], kw: c.kernelSize[1], cin: conv.inputShape[2], filters: c.filters };
}

/**
 * The plan of `conv` followed by `pool` (its only reader) as one
 * `pooledConv2d` node ({@link pooledConv2dLowering}), or null when the pair
 * is not fused: training models only (inference keeps ONNX Runtime's Conv
 * with its fused relu and the vectorised MaxPool without `Indices`), a
 * stride-1 undilated conv with a monotone activation, a pool whose windows
 * tile the conv output without padding, and a small im2col ({@link MAX_FUSED_ROWS}).
 */
export function pooledConv2dPlan(conv: NodeOf<'conv2d'>, pool: NodeOf<'maxPooling2d'>, forTraining: boolean): PooledPlan | null {
  if (!forTraining) return null;
  const p = plan(conv, pool);
  return p !== null && p.cin * p.g.kernel[0] * p.g.kernel[1] <= MAX_FUSED_ROWS ? p : null;
}

/** The phase kernels as `[phases, O, C·window]` rows, and the constant 0/1 matrix that builds them from the kernel's taps. */
export function emitPhaseKernels(b: OnnxGraphBuilder, p: PooledPlan, kernel: string, hint: string) {
  const [ph, pw] = p.pool;
  const [wh, ww] = p.g.kernel;
  const phases = ph * pw;
  const cols = phases * wh * ww;
  // place[t, (a, c, r, s)] = 1 when tap t = (th, tw) of phase (a, c) sits at window position (r, s) = (a + th, c + tw).
  const place = new Float32Array(p.kh * p.kw * cols);
  for (let th = 0; th < p.kh; th++)
    for (let tw = 0; tw < p.kw; tw++)
      for (let a = 0; a < ph; a++) for (let c = 0; c < pw; c++) place[(th * p.kw + tw) * cols + ((a * pw + c) * wh + a + th) * ww + c + tw] = 1;
  const matrix = b.floatConstant(`${hint}/phase_place`, [p.kh * p.kw, cols], place);
  const taps = b.op('Reshape', [kernel, b.ints([p.filters * p.cin, p.kh * p.kw])], [p.filters * p.cin, p.kh * p.kw], {}, 'pooled_kernel_taps');
  const placed = b.op('MatMul', [taps, matrix], [p.filters * p.cin, cols], {}, 'pooled_kernel_placed');
  const grid = b.op('Reshape', [placed, b.ints([p.filters, p.cin, phases, wh * ww])], [p.filters, p.cin, phases, wh * ww], {}, 'pooled_kernel_grid');
  const phaseMajor = b.op('Transpose', [grid], [phases, p.filters, p.cin, wh * ww], { perm: intsAttr([2, 0, 1, 3]) }, 'pooled_kernel_phase_major');
  const rows = b.op('Reshape', [phaseMajor, b.ints([phases, p.filters, p.cin * wh * ww])], [phases, p.filters, p.cin * wh * ww], {}, 'pooled_kernel_rows');
  return { rows, matrix };
}

/**
 * The phases of a pooling window, split into a left and a right half until
 * single phases: the shape of the comparison tree both the forward maximum
 * and its gradient walk. Left holds the lower phase numbers, and a tie goes
 * left, so the winner is the first maximum in row-major order (as MaxPool's
 * `Indices`, TensorFlow's and PyTorch's pooling gradients).
 */
function halves(lo: number, hi: number): [number, number, number] {
  return [lo, lo + Math.ceil((hi - lo) / 2), hi];
}

const maxKey = (lo: number, hi: number) => (hi - lo === 1 ? `phase${lo}` : `max${lo}_${hi}`);

/**
 * Lowering of a stride-1 conv2d whose output only feeds a non-overlapping
 * max pooling, in training models: one strided im2col of the input (every
 * phase's window, see {@link PooledPlan}), one MatMul per window phase
 * (the phase kernel times the im2col: that phase's conv output at every
 * pooled position), the maximum over phases as a tree of Max ops, then the
 * bias and (applied by the caller) the activation at the pooled size: both
 * commute with the maximum. Same values as the two layers without the
 * full-size conv output, and without MaxPool's `Indices` output, which ONNX
 * Runtime computes in a scalar loop. Returns the pooled pre-activation as `z`.
 */
export const pooledConv2dLowering: ForwardLowering<'pooledConv2d'> = {
  inputLayout: 'channelsFirst',
  weightPerms: (node) => conv2dLowering.weightPerms(node.conv),
  emit({ b, provider }, { conv, pool, plan: p }, [x], [kernel, bias]) {
    const [ho, wo] = p.g.output;
    const flat: Dim[] = ['N', p.filters, ho * wo];
    const xRows = emitInputTapRows(b, x.name, p.g, p.cin, provider);
    const { rows, matrix } = emitPhaseKernels(b, p, kernel, conv.name);
    const saved: Record<string, string> = { xRows, kernelRows: rows, place: matrix };
    const tree = emitPhaseMaximum(b, p, rows, xRows, `${conv.name}/phase_conv`, `${pool.name}/phase_max`);
    Object.assign(saved, tree.saved);
    let z = tree.maximum;
    if (bias) z = b.op('Add', [z, b.op('Reshape', [bias, b.ints([p.filters, 1])], [p.filters, 1], {}, 'bias_column')], flat, {}, `${pool.name}/bias`);
    const shape = channelsFirstShape(p.filters, p.g.output);
    return {
      z: {
        name: b.op('Reshape', [z, b.ints([0, p.filters, ho, wo])], shape, {}, `${pool.name}/pooled_conv`),
        perSample: pool.outputShape,
        layout: 'channelsFirst',
      },
      saved,
    };
  },
};

/**
 * Gradient of {@link pooledConv2dLowering}: dz (at the pooled size) walks the
 * comparison tree back ({@link emitPhaseTreeGrads}). Each phase's kernel gradient is its dz times the im2col, summed over the
 * batch and folded back onto the kernel's taps through the placement
 * matrix; dx, when needed, is the ConvTranspose of the phases' dz with the
 * phase kernels (stride = pool size). The bias gradient sums dz at the
 * pooled size.
 */
export const pooledConv2dGradient: GradientRule<'pooledConv2d'> = ({ b, node, forward, dZ, dZTotals, needInputGrad }) => {
  const { conv, plan: p } = node;
  const saved = forward.saved!;
  const [ho, wo] = p.g.output;
  const [wh, ww] = p.g.kernel;
  const phases = p.pool[0] * p.pool[1];
  const flat: Dim[] = ['N', p.filters, ho * wo];
  const phaseGrads = emitPhaseTreeGrads(b, saved, b.op('Reshape', [dZ, b.ints([0, p.filters, ho * wo])], flat, {}, 'pooled_dz'), phases, flat);
  const summed = emitPhaseKernelGrads(b, p, phaseGrads, saved.xRows);
  const tapRows = emitPhaseRowsToTaps(b, p, summed, saved.place);
  const dWeights = [tapRows];
  if (conv.config.useBias) dWeights.push(emitChannelBiasGrad(b, dZTotals ?? dZ, 2, p.filters));
  if (!needInputGrad) return { dXs: [null], dWeights };
  const dZPhases = b.op('Concat', phaseGrads, ['N', phases * p.filters, ho * wo], { axis: intAttr(1) }, 'pooled_dz_phases');
  const dZGrid = b.op('Reshape', [dZPhases, b.ints([0, phases * p.filters, ho, wo])], channelsFirstShape(phases * p.filters, p.g.output), {}, 'pooled_dz_grid');
  const phaseKernel = b.op(
    'Reshape',
    [saved.kernelRows, b.ints([phases * p.filters, p.cin, wh, ww])],
    [phases * p.filters, p.cin, wh, ww],
    {},
    'pooled_phase_kernel',
  );
  return { dXs: [emitConvInputGrad(b, dZGrid, phaseKernel, p.g, p.cin, phases * p.filters)], dWeights };
};

/**
 * The phase convolutions (each phase's kernel rows, a slice of `kernelRows`
 * `[phases, O, C·window]`, times the strided im2col) and their maximum as a tree of Max ops (see
 * {@link halves}), as `[N, O, positions]`; `saved` holds every phase output
 * and inner maximum, which {@link emitPhaseTreeGrads} compares again.
 */
export function emitPhaseMaximum(
  b: OnnxGraphBuilder,
  p: PooledPlan,
  kernelRows: string,
  xRows: string,
  convHint: string,
  maxHint: string,
): { maximum: string; saved: Record<string, string> } {
  const flat: Dim[] = ['N', p.filters, p.g.output[0] * p.g.output[1]];
  const phases = p.pool[0] * p.pool[1];
  const saved: Record<string, string> = {};
  for (let k = 0; k < phases; k++) {
    const rows = b.op('Slice', [kernelRows, b.ints([k]), b.ints([k + 1]), b.ints([0])], [1, p.filters, b.shapeOf(kernelRows)[2]], {}, 'pooled_phase_kernel');
    saved[maxKey(k, k + 1)] = b.op('MatMul', [rows, xRows], flat, {}, convHint);
  }
  const maximum = (lo: number, hi: number): string => {
    if (hi - lo === 1) return saved[maxKey(lo, hi)];
    const [l, mid, h] = halves(lo, hi);
    const m = b.op('Max', [maximum(l, mid), maximum(mid, h)], flat, {}, maxHint);
    saved[maxKey(lo, hi)] = m;
    return m;
  };
  return { maximum: maximum(0, phases), saved };
}

/**
 * dz at the pooled size (`[N, O, positions]`) split over the phases along
 * the comparison tree of {@link emitPhaseMaximum} (`saved`): at each Max the
 * right operand gets dz where it is strictly greater, the left the rest
 * (dz·g and dz − dz·g with g the comparison as 0/1: exact, and ONNX
 * Runtime's Where is a scalar loop). One dz per phase, in phase order.
 */
export function emitPhaseTreeGrads(b: OnnxGraphBuilder, saved: Readonly<Record<string, string>>, dZ: string, phases: number, flat: Dim[]): string[] {
  const phaseGrads: string[] = [];
  const split = (lo: number, hi: number, d: string) => {
    if (hi - lo === 1) {
      phaseGrads.push(d);
      return;
    }
    const [l, mid, h] = halves(lo, hi);
    const rightWins = b.op(
      'Cast',
      [b.op('Greater', [saved[maxKey(mid, h)], saved[maxKey(l, mid)]], flat, {}, 'pool_right_wins')],
      flat,
      { to: intAttr(1) },
      'pool_right_mask',
    );
    const dRight = b.op('Mul', [d, rightWins], flat, {}, 'pool_dz_right');
    split(l, mid, b.op('Sub', [d, dRight], flat, {}, 'pool_dz_left'));
    split(mid, h, dRight);
  };
  split(0, phases, dZ);
  return phaseGrads;
}

/** Each phase's kernel-row gradient (its dz times the im2col, summed over the batch), stacked as `[phases·O, C·window]`. */
export function emitPhaseKernelGrads(b: OnnxGraphBuilder, p: PooledPlan, phaseGrads: readonly string[], xRows: string): string {
  const rowLength = p.cin * p.g.kernel[0] * p.g.kernel[1];
  const positions = p.g.output[0] * p.g.output[1];
  const xCols = b.op('Transpose', [xRows], ['N', positions, rowLength], { perm: intsAttr([0, 2, 1]) }, 'pooled_x_cols');
  const perPhase = phaseGrads.map((d) => b.op('MatMul', [d, xCols], ['N', p.filters, rowLength], {}, 'pooled_dw_each'));
  const stacked = b.op('Concat', perPhase, ['N', phaseGrads.length * p.filters, rowLength], { axis: intAttr(1) }, 'pooled_dw_phases');
  return b.op('ReduceSum', [stacked, b.ints([0])], [phaseGrads.length * p.filters, rowLength], { keepdims: intAttr(0) }, 'pooled_dw_sum');
}

/**
 * Gradients of the phase kernels' rows (`[phases·O, C·window]`, or any shape
 * with those elements in that order) folded back onto the kernel's taps
 * through the placement matrix of {@link emitPhaseKernels}: a kernel
 * gradient `[O, C, kh, kw]`.
 */
export function emitPhaseRowsToTaps(b: OnnxGraphBuilder, p: PooledPlan, phaseRows: string, place: string): string {
  const phases = p.pool[0] * p.pool[1];
  const [wh, ww] = p.g.kernel;
  // [phases, O, C, window] → [O, C, phases·window], then onto the taps.
  const grid = b.op('Reshape', [phaseRows, b.ints([phases, p.filters, p.cin, wh * ww])], [phases, p.filters, p.cin, wh * ww], {}, 'pooled_dw_grid');
  const phaseLast = b.op('Transpose', [grid], [p.filters, p.cin, phases, wh * ww], { perm: intsAttr([1, 2, 0, 3]) }, 'pooled_dw_phase_last');
  const placedRows = b.op('Reshape', [phaseLast, b.ints([p.filters * p.cin, phases * wh * ww])], [p.filters * p.cin, phases * wh * ww], {}, 'pooled_dw_rows');
  const tapRows = b.op('Gemm', [placedRows, place], [p.filters * p.cin, p.kh * p.kw], { transB: intAttr(1) }, 'pooled_dw_taps');
  return b.op('Reshape', [tapRows, b.ints([p.filters, p.cin, p.kh, p.kw])], [p.filters, p.cin, p.kh, p.kw], {}, 'pooled_dw');
}
