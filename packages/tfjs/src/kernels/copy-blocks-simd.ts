import type * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from './kernel-scope.js';
import { simdModuleOn, type SimdHeap, type SimdModuleSource } from './simd-module.js';
import { COPY_BLOCKS_WASM, COPY_BLOCKS_WASM_SHARED } from './simd/copy-blocks.generated.js';

/** The exports of copy-blocks.wat (pointers are byte offsets into tfjs's heap; strides and blocks in values). */
export interface CopyBlocksExports {
  copy_blocks(dst: number, dstStride: number, src: number, srcStride: number, outer: number, block: number): void;
}

const COPY_BLOCKS: SimdModuleSource = { name: 'copy-blocks', plain: COPY_BLOCKS_WASM, shared: COPY_BLOCKS_WASM_SHARED };

/** copy-blocks.wat on `backend`'s heap, or null where it cannot run (see {@link simdModuleOn}). */
export function copyBlocksOn(backend: tf.KernelBackend): SimdHeap<CopyBlocksExports> | null {
  return simdModuleOn<CopyBlocksExports>(backend, COPY_BLOCKS);
}

/**
 * The concatenation of float32 `inputs` (every one non-empty) into a new
 * tensor of `shape`, by copy-blocks.wat on the wasm heap: input i
 * contributes a block of `blocks[i]` values to each of the `outer` rows of
 * the output. Returns the output, or null (nothing allocated) when an input
 * is not float32 or the module is unavailable (not tfjs's wasm backend, no
 * WebAssembly SIMD, or turned off by `ARABOZA_TFJS_SIMD` = `0` or a list
 * naming `copy-blocks`); the caller then takes its JS path.
 */
export function simdConcat(
  backend: tf.KernelBackend,
  inputs: readonly TensorInfo[],
  shape: number[],
  outer: number,
  blocks: readonly number[],
): TensorInfo | null {
  if (inputs.some((t) => t.dtype !== 'float32')) return null;
  const heap = copyBlocksOn(backend);
  if (!heap) return null;
  const stride = blocks.reduce((a, b) => a + b, 0);
  const out = heap.makeOutput(shape);
  const dst = heap.offset(out);
  let column = 0;
  inputs.forEach((t, i) => {
    heap.exports.copy_blocks(dst + 4 * column, stride, heap.offset(t), blocks[i], outer, blocks[i]);
    column += blocks[i];
  });
  return out;
}

/**
 * The split of float32 `x` into parts of `shapes`, by copy-blocks.wat on the
 * wasm heap: part i takes a block of `blocks[i]` values out of each of the
 * `outer` rows of x, after the blocks of the parts before it. Returns the
 * parts, or null (nothing allocated) where {@link simdConcat} would.
 */
export function simdSplit(
  backend: tf.KernelBackend,
  x: TensorInfo,
  shapes: readonly number[][],
  outer: number,
  blocks: readonly number[],
): TensorInfo[] | null {
  if (x.dtype !== 'float32') return null;
  const heap = copyBlocksOn(backend);
  if (!heap) return null;
  const stride = blocks.reduce((a, b) => a + b, 0);
  const outs = shapes.map((shape) => heap.makeOutput(shape));
  const src = heap.offset(x);
  let column = 0;
  outs.forEach((out, i) => {
    heap.exports.copy_blocks(heap.offset(out), blocks[i], src + 4 * column, stride, outer, blocks[i]);
    column += blocks[i];
  });
  return outs;
}
