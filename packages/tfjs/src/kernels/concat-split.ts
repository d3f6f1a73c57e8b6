import * as tf from '@tensorflow/tfjs-core';
import { backend_util, util, type ConcatAttrs, type SplitVAttrs } from '@tensorflow/tfjs-core';
import { simdConcat, simdSplit } from './copy-blocks-simd.js';
import { KernelScope, type TensorInfo } from './kernel-scope.js';

/**
 * Copies `outer` blocks of `block` values: block o of `src` (at
 * o·srcStride + srcOffset) to block o of `dst` (at o·dstStride + dstOffset).
 * Short blocks (a few channels, concatenated on the last axis) as plain
 * loops: a subarray and a set per block cost more than the copy itself.
 */
function copyBlocks(
  dst: Float32Array,
  dstStride: number,
  dstOffset: number,
  src: Float32Array,
  srcStride: number,
  srcOffset: number,
  outer: number,
  block: number,
): void {
  if (block >= 64) {
    for (let o = 0; o < outer; o++) dst.set(src.subarray(o * srcStride + srcOffset, o * srcStride + srcOffset + block), o * dstStride + dstOffset);
    return;
  }
  for (let o = 0; o < outer; o++) {
    const d = o * dstStride + dstOffset;
    const s = o * srcStride + srcOffset;
    for (let k = 0; k < block; k++) dst[d + k] = src[s + k];
  }
}

/** Product of `shape[from…]`. */
const sizeFrom = (shape: readonly number[], from: number): number => shape.slice(from).reduce((a, b) => a * b, 1);

/**
 * `Concat` of float32 tensors by copy-blocks.wat ({@link simdConcat}) on the
 * wasm heap, or where that cannot run as one JS pass over the backend's
 * data; anything else (other dtypes) goes to `original`. tfjs-wasm's copies
 * row by row through tfjs's generic JS implementation, a subarray and a set
 * per row: on a last-axis concatenation of a few channels (a U-Net's skip
 * connection) the per-row overhead dwarfs the copy itself.
 */
export function concatKernel(original: tf.KernelConfig, mark: (fn: tf.KernelFunc) => tf.KernelFunc): tf.KernelConfig {
  return {
    ...original,
    kernelFunc: mark((args) => {
      const inputs = (args.inputs as unknown as TensorInfo[]).filter((t) => util.sizeFromShape(t.shape) > 0);
      if (inputs.length < 2 || inputs.some((t) => t.dtype !== 'float32')) return original.kernelFunc(args);
      const axis = util.parseAxisParam((args.attrs as unknown as ConcatAttrs).axis, inputs[0].shape)[0];
      const shape = backend_util.computeOutShape(
        inputs.map((t) => t.shape),
        axis,
      );
      const outer = sizeFrom(shape, 0) / sizeFrom(shape, axis);
      const blocks = inputs.map((t) => sizeFrom(t.shape, axis));
      const simd = simdConcat(args.backend as tf.KernelBackend, inputs, shape, outer, blocks);
      if (simd) return simd;
      const stride = blocks.reduce((a, b) => a + b, 0);
      const scope = new KernelScope(args.backend as tf.KernelBackend, original.backendName);
      try {
        const out = scope.compute(shape, inputs, (dst, ...srcs) => {
          let offset = 0;
          srcs.forEach((src, i) => {
            copyBlocks(dst, stride, offset, src, blocks[i], 0, outer, blocks[i]);
            offset += blocks[i];
          });
        });
        return scope.finish(out);
      } catch (e) {
        scope.abandon();
        throw e;
      }
    }),
  };
}

/**
 * `SplitV` (the gradient of a concatenation) of a float32 tensor by
 * copy-blocks.wat ({@link simdSplit}) on the wasm heap, or where that cannot
 * run as JS copies over the backend's data; other dtypes go to `original`.
 * tfjs-wasm's slices each part through a generic strided copy, element by
 * element with index arithmetic, which made the gradient of a U-Net's
 * skip-connection concatenation one of its training step's largest kernels.
 */
export function splitVKernel(original: tf.KernelConfig, mark: (fn: tf.KernelFunc) => tf.KernelFunc): tf.KernelConfig {
  return {
    ...original,
    kernelFunc: mark((args) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype !== 'float32') return original.kernelFunc(args);
      const { numOrSizeSplits, axis } = args.attrs as unknown as SplitVAttrs;
      const $axis = util.parseAxisParam(axis, x.shape)[0];
      const sizes = backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, $axis);
      const inner = sizeFrom(x.shape, $axis + 1);
      const stride = sizeFrom(x.shape, $axis);
      const outer = sizeFrom(x.shape, 0) / stride;
      const shapes = sizes.map((size) => x.shape.map((n, d) => (d === $axis ? size : n)));
      const simd = simdSplit(
        args.backend as tf.KernelBackend,
        x,
        shapes,
        outer,
        sizes.map((size) => size * inner),
      );
      if (simd) return simd;
      const scope = new KernelScope(args.backend as tf.KernelBackend, original.backendName);
      try {
        let offset = 0;
        const outs = sizes.map((size, i) => {
          const from = offset;
          offset += size * inner;
          return scope.compute(shapes[i], [x], (dst, src) => copyBlocks(dst, size * inner, 0, src, stride, from, outer, size * inner));
        });
        return scope.finishAll(outs);
      } catch (e) {
        scope.abandon();
        throw e;
      }
    }),
  };
}
