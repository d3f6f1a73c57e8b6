import { backend_util } from '@tensorflow/tfjs-core';
import { KernelScope, type TensorInfo } from './kernel-scope.js';
import { simdConvInputGrad } from './conv-input-grad-simd.js';
import { simdFilterGrad } from './filter-grad-simd.js';
import { simdFilterGradOneChannel } from './one-channel-simd.js';
import { simdTranspose, type FilterGradPerm } from './transpose-simd.js';

/** What both convolution gradients need to know about the forward convolution (NHWC). */
export interface Conv2dGeometry {
  readonly batch: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly inChannels: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly outChannels: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly dilationHeight: number;
  readonly dilationWidth: number;
  /** Zeros added before the first row / column by the forward convolution. */
  readonly padTop: number;
  readonly padLeft: number;
}

/** The geometry of a forward NHWC convolution from tfjs's own shape rules. */
export function conv2dGeometry(info: backend_util.Conv2DInfo): Conv2dGeometry {
  if (info.dataFormat !== 'channelsLast') throw new Error('@araboza/tfjs: convolution gradients are implemented for NHWC only');
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * dLoss/dFilter of `y = conv2d(x, w)` as one forward convolution, which the
 * wasm backend runs through XNNPACK:
 *
 *   dW[i, j, ci, co] = Σ_{b, oh, ow} x[b, oh·s + i·d − pad, …, ci] · dy[b, oh, ow, co]
 *
 * Two equivalent convolution forms; XNNPACK's GEMM wastes most of its tile
 * when the convolution has fewer output channels than its tile width
 * ({@link GEMM_TILE_CHANNELS}; 1 for an autoencoder's last layer), so with
 * stride 1 and co below it the form whose output channels are ci > co is
 * used: {@link conv2dFilterGradByOutput} (ci channels, stride 1); otherwise
 * {@link conv2dFilterGradByInput} (co channels, any stride), whose packed
 * kernel (dy) is the smaller one (measured faster on the U-Net's 24 → 8
 * and 48 → 16 layers). When ci or co is 1 (stride 1),
 * {@link conv2dFilterGradOneChannel}'s matrix product is faster than
 * either, and on wasm {@link simdFilterGradOneChannel} (one-channel-conv.wat,
 * where it can run) is faster still. With stride 1, dilation 1 and both
 * channel counts multiples of 4, on wasm {@link simdFilterGrad}
 * (filter-grad.wat, where it can run) computes the sums directly from x and
 * dy in place: neither convolution form's transposes nor XNNPACK's packing
 * of a whole operand as a kernel on every call.
 */
export function conv2dFilterGrad(scope: KernelScope, x: TensorInfo, dy: TensorInfo, g: Conv2dGeometry): TensorInfo {
  const strideOne = g.strideHeight === 1 && g.strideWidth === 1;
  if (strideOne && (g.inChannels === 1 || g.outChannels === 1)) {
    const simd = simdFilterGradOneChannel(scope, x, dy, g);
    return simd ? scope.finish(simd) : conv2dFilterGradOneChannel(scope, x, dy, g);
  }
  const simd = simdFilterGrad(scope.backend, x, dy, g);
  if (simd) return scope.finish(simd);
  const byOutput = strideOne && g.inChannels > g.outChannels && g.outChannels < GEMM_TILE_CHANNELS;
  return byOutput ? conv2dFilterGradByOutput(scope, x, dy, g) : conv2dFilterGradByInput(scope, x, dy, g);
}

/** Output channels one tile of XNNPACK's wasm-SIMD convolution GEMM computes (its micro-kernels are 8 wide). */
export const GEMM_TILE_CHANNELS = 8;

/**
 * The filter gradient (stride 1) when x or dy has a single channel, as one
 * matrix product [kh·kw, n] · [n, c] where n runs over (batch, row, column).
 * The single-channel operand is the one shifted: with one channel its
 * kh·kw shifted windows are contiguous row copies, written into the rows of A;
 * the other operand is B as it is, so nothing large is copied, transposed or
 * packed into a convolution kernel (what makes the convolution forms slow
 * for an autoencoder's first and last layers).
 *
 * - ci = 1: A[(i, j), (b, oh, ow)] = xp[b, oh + i·d, ow + j·d] (x padded as
 *   the forward pads it, zeros outside x), B = dy as [n, co].
 * - co = 1: with t = oh + i·d − pad, A[(i, j), (b, r, c)] = dy[b, r − i·d + pad, …]
 *   = dyp[b, r + (k − 1 − i)·d, …] where dyp is dy padded with
 *   (k − 1)·d − pad zeros in front; B = x as [n, ci].
 */
export function conv2dFilterGradOneChannel(scope: KernelScope, x: TensorInfo, dy: TensorInfo, g: Conv2dGeometry): TensorInfo {
  const [kh, kw] = [g.filterHeight, g.filterWidth];
  const [dh, dw] = [g.dilationHeight, g.dilationWidth];
  const shiftX = g.inChannels === 1;
  // The shifted operand on its own grid ([b, rows, cols], one channel) and the window every tap reads.
  const [small, rows, cols] = shiftX ? [x, g.inHeight, g.inWidth] : [dy, g.outHeight, g.outWidth];
  const [outRows, outCols] = shiftX ? [g.outHeight, g.outWidth] : [g.inHeight, g.inWidth];
  const [front, left] = shiftX ? [g.padTop, g.padLeft] : [(kh - 1) * dh - g.padTop, (kw - 1) * dw - g.padLeft];
  const n = g.batch * outRows * outCols;
  // The kh·kw shifted windows written in JS straight from the plane (zeros outside it): wasm's generic Pad,
  // Slice and Concat took several times as long for the autoencoder's 28×28 layers.
  const a = scope.compute([kh * kw, n], [small], (out, plane) => {
    let dst = 0;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        // Output (p, q) of this tap reads plane[p + rowShift, q + colShift], zero outside the plane.
        const rowShift = (shiftX ? i * dh : (kh - 1 - i) * dh) - front;
        const colShift = (shiftX ? j * dw : (kw - 1 - j) * dw) - left;
        const qStart = Math.min(Math.max(-colShift, 0), outCols);
        const qEnd = Math.max(Math.min(cols - colShift, outCols), qStart);
        for (let b = 0; b < g.batch; b++) {
          for (let p = 0; p < outRows; p++, dst += outCols) {
            const r = p + rowShift;
            // Plain loops: rows are short (28 here), and subarray/set/fill per row cost more than the copy itself.
            if (r < 0 || r >= rows) {
              for (let q = 0; q < outCols; q++) out[dst + q] = 0;
              continue;
            }
            const src = (b * rows + r) * cols + colShift;
            for (let q = 0; q < qStart; q++) out[dst + q] = 0;
            for (let q = qStart; q < qEnd; q++) out[dst + q] = plane[src + q];
            for (let q = qEnd; q < outCols; q++) out[dst + q] = 0;
          }
        }
      }
    }
  });
  const other = shiftX ? dy : x;
  const otherChannels = shiftX ? g.outChannels : g.inChannels;
  const product = scope.run(
    'BatchMatMul',
    { a: scope.run('Reshape', { x: a }, { shape: [1, kh * kw, n] }), b: scope.run('Reshape', { x: other }, { shape: [1, n, otherChannels] }) },
    { transposeA: false, transposeB: false },
  );
  return scope.finish(scope.run('Reshape', { x: product }, { shape: [kh, kw, g.inChannels, g.outChannels] }));
}

/** `x` transposed by `perm` on the scope's backend: araboza's SIMD modules where they run ({@link simdTranspose}), else its `Transpose`. */
function transposed(scope: KernelScope, x: TensorInfo, perm: FilterGradPerm): TensorInfo {
  const simd = simdTranspose(scope.backend, x, perm);
  return simd ? scope.adopt(simd) : scope.run('Transpose', { x }, { perm: [...perm] });
}

/**
 * The filter gradient as a convolution whose batch is `ci` and whose
 * channels are `b`: input xᵀ = x as [ci, H, W, b], kernel dyᵀ = dy as
 * [oh, ow, b, co], stride d and dilation s (swapped), with the forward's
 * padding in front. Output channels: co. Its output is at least
 * [ci, kh, kw, co]; rows past the kernel (input rows the forward never
 * reached) are cropped. Any stride.
 */
export function conv2dFilterGradByInput(scope: KernelScope, x: TensorInfo, dy: TensorInfo, g: Conv2dGeometry): TensorInfo {
  const xT = transposed(scope, x, [3, 1, 2, 0]);
  const dyT = transposed(scope, dy, [1, 2, 0, 3]);
  // Just enough padding after the input for the last kernel tap of the last output.
  const reachH = (g.outHeight - 1) * g.strideHeight + (g.filterHeight - 1) * g.dilationHeight + 1;
  const reachW = (g.outWidth - 1) * g.strideWidth + (g.filterWidth - 1) * g.dilationWidth + 1;
  const padBottom = Math.max(0, reachH - g.inHeight - g.padTop);
  const padRight = Math.max(0, reachW - g.inWidth - g.padLeft);
  const conv = scope.run(
    'Conv2D',
    { x: xT, filter: dyT },
    {
      strides: [g.dilationHeight, g.dilationWidth],
      dilations: [g.strideHeight, g.strideWidth],
      pad: [
        [0, 0],
        [g.padTop, padBottom],
        [g.padLeft, padRight],
        [0, 0],
      ],
      dataFormat: 'NHWC',
    },
  );
  return scope.finish(filterFromConvolution(scope, conv, g, false));
}

/**
 * The filter gradient (stride 1) as a convolution whose batch is `co` and
 * whose channels are `b`: input dy as [co, oh, ow, b], padded with
 * F = (k − 1)·d − pad zeros in front; kernel x as [H, W, b, ci]; stride d.
 * Output channels: ci. With t = oh + i·d − pad,
 *
 *   dW[i] = Σ_t x[t] · dy[t − i·d + pad] = out[k − 1 − i],
 *
 * so the [co, kh, kw, ci] result is flipped in space and transposed.
 */
export function conv2dFilterGradByOutput(scope: KernelScope, x: TensorInfo, dy: TensorInfo, g: Conv2dGeometry): TensorInfo {
  const dyT = transposed(scope, dy, [3, 1, 2, 0]);
  const xK = transposed(scope, x, [1, 2, 0, 3]);
  const effH = (g.filterHeight - 1) * g.dilationHeight;
  const effW = (g.filterWidth - 1) * g.dilationWidth;
  const frontH = effH - g.padTop;
  const frontW = effW - g.padLeft;
  const conv = scope.run(
    'Conv2D',
    { x: dyT, filter: xK },
    {
      strides: [g.dilationHeight, g.dilationWidth],
      dilations: [1, 1],
      pad: [
        [0, 0],
        [frontH, g.inHeight + g.padTop - g.outHeight],
        [frontW, g.inWidth + g.padLeft - g.outWidth],
        [0, 0],
      ],
      dataFormat: 'NHWC',
    },
  );
  return scope.finish(filterFromConvolution(scope, conv, g, true));
}

/**
 * The [kh, kw, ci, co] filter gradient read out of the convolution that
 * computed it, in one JS pass over a small tensor (wasm's Slice, Reverse and
 * Transpose would cost more in per-call overhead than the copy itself):
 *
 * - by input (`byOutput` false): conv is [ci, ≥ kh, ≥ kw, co]; dW[i, j, c, o] = conv[c, i, j, o] (rows past the kernel dropped);
 * - by output: conv is [co, kh, kw, ci], flipped in space; dW[i, j, c, o] = conv[o, kh − 1 − i, kw − 1 − j, c].
 */
function filterFromConvolution(scope: KernelScope, conv: TensorInfo, g: Conv2dGeometry, byOutput: boolean): TensorInfo {
  const [kh, kw, ci, co] = [g.filterHeight, g.filterWidth, g.inChannels, g.outChannels];
  const [rows, cols] = [conv.shape[1], conv.shape[2]];
  return scope.compute([kh, kw, ci, co], [conv], (out, src) => {
    let dst = 0;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        for (let c = 0; c < ci; c++) {
          if (byOutput) {
            const at = ((kh - 1 - i) * cols + (kw - 1 - j)) * ci + c;
            for (let o = 0; o < co; o++) out[dst++] = src[o * rows * cols * ci + at];
          } else {
            const at = ((c * rows + i) * cols + j) * co;
            for (let o = 0; o < co; o++) out[dst++] = src[at + o];
          }
        }
      }
    }
  });
}

/**
 * The kernel `w` ([kh, kw, ci, co]) flipped in space with its channel axes
 * swapped: out[i, j, o, c] = w[kh − 1 − i, kw − 1 − j, c, o]. One JS pass
 * over a small tensor: wasm's Transpose and Reverse on a kernel this size
 * cost mostly per-call overhead.
 */
function flippedSwappedKernel(scope: KernelScope, filter: TensorInfo): TensorInfo {
  const [kh, kw, ci, co] = filter.shape;
  return scope.compute([kh, kw, co, ci], [filter], (out, w) => {
    let dst = 0;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const tap = ((kh - 1 - i) * kw + (kw - 1 - j)) * ci * co;
        for (let o = 0; o < co; o++) for (let c = 0; c < ci; c++) out[dst++] = w[tap + c * co + o];
      }
    }
  });
}

/**
 * dLoss/dInput of `y = conv2d(x, w)` as one forward convolution:
 *
 *   dX[i] = Σ_j z[i + P − j·d] · w[j],   z = dy with s − 1 zeros between rows/columns,
 *
 * i.e. a stride-1 convolution (dilation d) of z, padded with
 * P = (k − 1)·d − pad zeros in front, with the kernel flipped in space and
 * its channel axes swapped ([kh, kw, co, ci]). With stride 1, dilation 1 and
 * both channel counts multiples of 4, on wasm {@link simdConvInputGrad}
 * (conv-input-grad.wat, where it can run) sums the terms directly instead:
 * XNNPACK re-creates its operator and packs this non-constant kernel per call.
 */
export function conv2dInputGrad(scope: KernelScope, dy: TensorInfo, filter: TensorInfo, g: Conv2dGeometry): TensorInfo {
  const simd = simdConvInputGrad(scope.backend, dy, filter, g);
  if (simd) return scope.finish(simd);
  const sH = g.strideHeight;
  const sW = g.strideWidth;
  let z = dy;
  if (sH > 1 || sW > 1) {
    // Zero insertion without a scatter: each dy pixel becomes an sH×sW block with dy in its corner.
    const cells = scope.run('Reshape', { x: dy }, { shape: [g.batch, g.outHeight, 1, g.outWidth, 1, g.outChannels] });
    const blocks = scope.run(
      'PadV2',
      { x: cells },
      {
        paddings: [
          [0, 0],
          [0, 0],
          [0, sH - 1],
          [0, 0],
          [0, sW - 1],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    z = scope.run('Reshape', { x: blocks }, { shape: [g.batch, g.outHeight * sH, g.outWidth * sW, g.outChannels] });
  }
  const effH = (g.filterHeight - 1) * g.dilationHeight;
  const effW = (g.filterWidth - 1) * g.dilationWidth;
  const beforeH = effH - g.padTop;
  const beforeW = effW - g.padLeft;
  // The padded z must be exactly H + (kh − 1)·d long; crop z when its trailing zeros overshoot.
  let afterH = g.inHeight + effH - beforeH - z.shape[1];
  let afterW = g.inWidth + effW - beforeW - z.shape[2];
  if (afterH < 0 || afterW < 0) {
    z = scope.run(
      'Slice',
      { x: z },
      {
        begin: [0, 0, 0, 0],
        size: [g.batch, z.shape[1] + Math.min(afterH, 0), z.shape[2] + Math.min(afterW, 0), g.outChannels],
      },
    );
    afterH = Math.max(afterH, 0);
    afterW = Math.max(afterW, 0);
  }
  const flipped = flippedSwappedKernel(scope, filter);
  return scope.finish(
    scope.run(
      'Conv2D',
      { x: z, filter: flipped },
      {
        strides: [1, 1],
        dilations: [g.dilationHeight, g.dilationWidth],
        pad: [
          [0, 0],
          [beforeH, afterH],
          [beforeW, afterW],
          [0, 0],
        ],
        dataFormat: 'NHWC',
      },
    ),
  );
}
