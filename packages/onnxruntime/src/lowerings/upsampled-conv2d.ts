import { intAttr, intsAttr, stringAttr, type OnnxGraphBuilder } from '../onnx-graph.js';
import {
  channelsFirstShape,
  convAttrs,
  convGeometry,
  convGradsReplicateInput,
  emitChannelBiasGrad,
  emitConvForwardFromRows,
  emitConvGrads,
  emitInputTapRows,
  type ConvGeometry,
} from './conv-common.js';
import { conv2dLowering } from './conv2d.js';
import type { ResolvedDevice } from '../device.js';
import type { ForwardLowering, GradientRule, LoweredForward, NodeOf } from './types.js';

/**
 * Largest channel count of the fused convolution (filters × factor²) in
 * inference models: one blocked-Conv block of ONNX Runtime's AVX-512 kernels.
 */
const MAX_FUSED_CHANNELS = 16;
/**
 * The same limit in training models, whose weights are inputs, so no
 * blocked Conv either way: there the fused form also replaces a full-size
 * convolution gradient (im2col and ConvTranspose at the upsampled size) with
 * one at the low resolution, and the upsampling's summing gradient with a
 * SpaceToDepth. Measured on the MNIST autoencoder (3 fusions, up to 16
 * filters × 4): about a tenth less time per step than fusing only the last.
 */
const MAX_FUSED_CHANNELS_TRAINING = 64;

/** How a nearest upsampling followed by a stride-1 convolution maps onto the low-resolution input, per axis. */
interface AxisFusion {
  /** Low-resolution kernel length. */
  readonly kernel: number;
  /** Padding before/after on the low-resolution input. */
  readonly before: number;
  readonly after: number;
  /** For output phase a and original tap t, the low-resolution tap it lands on. */
  readonly tapOf: (a: number, t: number) => number;
}

function axisFusion(lowInput: number, factor: number, kernel: number, before: number, out: number): AxisFusion | null {
  if (out % factor !== 0) return null;
  // Output row o = factor·i + a reads upsampled rows o − before + t, i.e. low-resolution row i + ⌊(a − before + t)/factor⌋.
  const offset = (a: number, t: number) => Math.floor((a - before + t) / factor);
  const lo = offset(0, 0);
  const hi = offset(factor - 1, kernel - 1);
  const after = out / factor - 1 + hi - (lowInput - 1);
  if (-lo < 0 || after < 0) return null;
  return { kernel: hi - lo + 1, before: -lo, after, tapOf: (a, t) => offset(a, t) - lo };
}

/**
 * The plan of `conv` applied to the output of `up` as one `upsampledConv2d`
 * node ({@link upsampledConv2dLowering}: one convolution on the
 * low-resolution input followed by DepthToSpace, a sub-pixel convolution),
 * or null when the pair is not fused. Fused: stride and dilation 1, the
 * same factor on both axes, output lengths divisible by it, and at most 16
 * fused channels (64 in training models, see {@link MAX_FUSED_CHANNELS_TRAINING}).
 */
export function subpixelPlan(up: NodeOf<'upSampling2d'>, conv: NodeOf<'conv2d'>, forTraining: boolean): SubpixelPlan | null {
  const [sh, sw] = up.config.size;
  // Worth it only for few filters in inference: ONNX Runtime's blocked Conv then wastes most of a channel block,
  // while its DepthToSpace is a plain 6-D transpose that costs more than the upsampling it replaces on wide outputs.
  if (conv.config.filters * sh * sw > (forTraining ? MAX_FUSED_CHANNELS_TRAINING : MAX_FUSED_CHANNELS)) return null;
  return plan(up, conv) === null ? null : fusedPair(up, conv);
}

function plan(up: NodeOf<'upSampling2d'>, conv: NodeOf<'conv2d'>) {
  const [sh, sw] = up.config.size;
  const c = conv.config;
  if (sh !== sw || c.strides.some((v) => v !== 1) || c.dilationRate.some((v) => v !== 1)) return null;
  const g = convGeometry(conv.inputShape.slice(0, 2), c.kernelSize, c.strides, c.dilationRate, c.padding);
  const axes = [0, 1].map((i) => axisFusion(up.inputShape[i], sh, c.kernelSize[i], g.before[i], g.output[i]));
  if (axes.some((a) => a === null)) return null;
  return { factor: sh, axes: axes as AxisFusion[] };
}

/** What both the lowering and the gradient of a fused pair need: factor, kernel, axis plans, channels, low-resolution geometry. */
export interface SubpixelPlan {
  /** The upsampling factor (both axes). */
  readonly s: number;
  /** The original kernel's size. */
  readonly kh: number;
  readonly kw: number;
  /** Per axis, how the original taps land on the low-resolution kernel. */
  readonly ay: AxisFusion;
  readonly ax: AxisFusion;
  readonly filters: number;
  /** Input channels. */
  readonly cin: number;
  /** Geometry of the convolution on the low-resolution input. */
  readonly g: ConvGeometry;
}

function fusedPair(up: NodeOf<'upSampling2d'>, conv: NodeOf<'conv2d'>): SubpixelPlan {
  const p = plan(up, conv)!;
  const [ay, ax] = p.axes;
  const [kh, kw] = conv.config.kernelSize;
  const lowOut = [conv.outputShape[0] / p.factor, conv.outputShape[1] / p.factor];
  const g: ConvGeometry = {
    input: up.inputShape.slice(0, 2),
    output: lowOut,
    kernel: [ay.kernel, ax.kernel],
    strides: [1, 1],
    dilations: [1, 1],
    before: [ay.before, ax.before],
    after: [ay.after, ax.after],
  };
  return { s: p.factor, kh, kw, ay, ax, filters: conv.config.filters, cin: up.inputShape[2], g };
}

/**
 * Lowering of nearest upsampling (factor s) followed by a stride-1 conv2d: a Conv on the low-resolution input with s² kernels (one
 * per output phase, each the sum of the original taps that read the same
 * low-resolution pixel), then DepthToSpace. Same values as the two layers,
 * without the upsampled tensor, and with s²× more output channels, which
 * suits ONNX Runtime's convolution kernels far better when a decoder's
 * last layer has a single filter. The phase kernels are a MatMul of the
 * kernel with a constant 0/1 matrix (folded by ONNX Runtime when the
 * kernel is an initializer). In training, where the kernel gradient
 * builds the low-resolution input's im2col, the convolution is a MatMul
 * over it instead (kept in `saved.xRows` for the gradient).
 */
export const upsampledConv2dLowering: ForwardLowering<'upsampledConv2d'> = {
  inputLayout: 'channelsFirst',
  weightPerms: (node) => conv2dLowering.weightPerms(node.conv),
  emit: ({ b, forTraining, provider }, { conv, plan }, [xLow], [kernel, bias]) =>
    emitSubpixelConv(b, conv, plan, xLow.name, kernel, bias, forTraining, provider),
};

/** The sub-pixel convolution of {@link upsampledConv2dLowering}, on the low-resolution input `xLow` (NCHW). */
function emitSubpixelConv(
  b: OnnxGraphBuilder,
  conv: NodeOf<'conv2d'>,
  plan: SubpixelPlan,
  xLow: string,
  kernel: string,
  bias: string | undefined,
  forTraining: boolean,
  provider: ResolvedDevice,
): LoweredForward {
  const { s, kh, kw, ay, ax, filters, cin, g } = plan;
  // combine[t, (a_h, a_w, δ_h, δ_w)] = 1 when original tap t lands on low-resolution tap δ in phase a.
  const cols = s * s * ay.kernel * ax.kernel;
  const combine = new Float32Array(kh * kw * cols);
  for (let th = 0; th < kh; th++)
    for (let tw = 0; tw < kw; tw++)
      for (let ah = 0; ah < s; ah++)
        for (let aw = 0; aw < s; aw++) {
          const col = ((ah * s + aw) * ay.kernel + ay.tapOf(ah, th)) * ax.kernel + ax.tapOf(aw, tw);
          combine[(th * kw + tw) * cols + col] = 1;
        }
  const matrix = b.floatConstant(`${conv.name}/phase_combine`, [kh * kw, cols], combine);
  const rows = b.op('Reshape', [kernel, b.ints([filters * cin, kh * kw])], [filters * cin, kh * kw], {}, 'phase_kernel_rows');
  const phases = b.op('MatMul', [rows, matrix], [filters * cin, cols], {}, 'phase_kernels');
  const grid = b.op('Reshape', [phases, b.ints([filters, cin, s * s, ay.kernel, ax.kernel])], [filters, cin, s * s, ay.kernel, ax.kernel], {}, 'phase_grid');
  // DepthToSpace (DCR) reads channel (a_h·s + a_w)·O + o, so phases go first.
  const ordered = b.op('Transpose', [grid], [s * s, filters, cin, ay.kernel, ax.kernel], { perm: intsAttr([2, 0, 1, 3, 4]) }, 'phase_major');
  const fusedKernel = b.op(
    'Reshape',
    [ordered, b.ints([s * s * filters, cin, ay.kernel, ax.kernel])],
    [s * s * filters, cin, ay.kernel, ax.kernel],
    {},
    'phase_kernel',
  );
  const phaseBias = bias
    ? b.op(
        'Reshape',
        [b.op('Expand', [bias, b.ints([s * s, filters])], [s * s, filters], {}, 'phase_bias_grid'), b.ints([s * s * filters])],
        [s * s * filters],
        {},
        'phase_bias',
      )
    : null;
  const lowOut = g.output;
  let z: string;
  let xRows: string | undefined;
  if (forTraining && convGradsReplicateInput(g, cin, s * s * filters, true)) {
    // The kernel gradient builds the input's im2col anyway; the forward reuses it as one MatMul. Its output
    // goes to DepthToSpace, so a Conv could not fuse an activation either, and on these small
    // low-resolution images ONNX Runtime's per-image Conv is the slower of the two (measured on the
    // MNIST autoencoder's 8→64-channel phase conv).
    xRows = emitInputTapRows(b, xLow, g, cin, provider);
    z = emitConvForwardFromRows(b, xRows, fusedKernel, phaseBias, g, cin, s * s * filters, `${conv.name}/subpixel_conv`);
  } else {
    const inputs = phaseBias ? [xLow, fusedKernel, phaseBias] : [xLow, fusedKernel];
    z = b.op(
      'Conv',
      inputs,
      channelsFirstShape(s * s * filters, lowOut),
      convAttrs(2, { pads: [ay.before, ax.before, ay.after, ax.after] }),
      `${conv.name}/subpixel_conv`,
    );
  }
  const full = b.op(
    'DepthToSpace',
    [z],
    channelsFirstShape(filters, conv.outputShape.slice(0, 2)),
    { blocksize: intAttr(s), mode: stringAttr('DCR') },
    `${conv.name}/depth_to_space`,
  );
  return {
    z: { name: full, perSample: conv.outputShape, layout: 'channelsFirst' },
    saved: xRows ? { fusedKernel, combine: matrix, xRows } : { fusedKernel, combine: matrix },
  };
}

/**
 * Gradient of the fused upsampling + conv2d: dz goes back through
 * SpaceToDepth (DepthToSpace's inverse) to the low-resolution convolution,
 * whose input and kernel gradients are the ordinary conv rules; the kernel
 * gradient returns to the original taps through the transposed combine
 * matrix. The upsampling's own gradient (a sum over each pixel's copies) is
 * part of it.
 */
export const upsampledConv2dGradient: GradientRule<'upsampledConv2d'> = ({
  b,
  node: { conv, plan },
  xs: [xLow],
  forward,
  dZ,
  needInputGrad,
  provider,
  convBlock,
}) => {
  const { s, kh, kw, ay, ax, filters, cin, g } = plan;
  const fusedFilters = s * s * filters;
  const lowOut = g.output;
  const dZLow = emitSpaceToDepth(b, dZ, filters, lowOut, s, provider);
  const fusedGrads = emitConvGrads(
    b,
    xLow.name,
    dZLow,
    forward.saved!.fusedKernel,
    g,
    cin,
    fusedFilters,
    needInputGrad,
    provider,
    convBlock,
    forward.saved!.xRows,
  );
  const cols = s * s * ay.kernel * ax.kernel;
  const phaseGrid = b.op(
    'Reshape',
    [fusedGrads.dKernel, b.ints([s * s, filters, cin, ay.kernel, ax.kernel])],
    [s * s, filters, cin, ay.kernel, ax.kernel],
    {},
    'subpixel_dw_grid',
  );
  const phaseLast = b.op('Transpose', [phaseGrid], [filters, cin, s * s, ay.kernel, ax.kernel], { perm: intsAttr([1, 2, 0, 3, 4]) }, 'subpixel_dw_phase_last');
  const phaseRows = b.op('Reshape', [phaseLast, b.ints([filters * cin, cols])], [filters * cin, cols], {}, 'subpixel_dw_rows');
  const tapRows = b.op('Gemm', [phaseRows, forward.saved!.combine], [filters * cin, kh * kw], { transB: intAttr(1) }, 'subpixel_dw_taps');
  const dWeights = [b.op('Reshape', [tapRows, b.ints([filters, cin, kh, kw])], [filters, cin, kh, kw], {}, 'subpixel_dw')];
  if (conv.config.useBias) dWeights.push(emitChannelBiasGrad(b, dZ, 2, filters));
  return { dXs: [fusedGrads.dX], dWeights };
};

/**
 * ONNX SpaceToDepth of a `[N, C, h·s, w·s]` value: `[N, C·s², h, w]`, channel
 * (a·s + b)·C + c holding pixel (i·s + a, j·s + b) of channel c. On WebGPU,
 * which has no SpaceToDepth kernel (ONNX Runtime 1.30: it ran on the CPU,
 * with a copy each way), the same as ONNX defines it: a reshape to
 * `[N, C, h, s, w, s]`, a transpose and a reshape.
 */
function emitSpaceToDepth(b: OnnxGraphBuilder, value: string, channels: number, low: readonly number[], s: number, provider: ResolvedDevice): string {
  const [h, w] = low;
  const out = channelsFirstShape(s * s * channels, low);
  if (provider !== 'webgpu') return b.op('SpaceToDepth', [value], out, { blocksize: intAttr(s) }, 'subpixel_dz');
  const blocks = b.op('Reshape', [value, b.ints([-1, channels, h, s, w, s])], ['N', channels, h, s, w, s], {}, 'subpixel_dz_blocks');
  const moved = b.op('Transpose', [blocks], ['N', s, s, channels, h, w], { perm: intsAttr([0, 3, 5, 1, 2, 4]) }, 'subpixel_dz_phase_major');
  return b.op('Reshape', [moved, b.ints([-1, s * s * channels, h, w])], out, {}, 'subpixel_dz');
}
