import type * as tf from '@tensorflow/tfjs-core';
import { copyBlocksOn } from './copy-blocks-simd.js';
import type { TensorInfo } from './kernel-scope.js';
import { simdModuleOn, type SimdModuleSource } from './simd-module.js';
import { TRANSPOSE_WASM, TRANSPOSE_WASM_SHARED } from './simd/transpose.generated.js';

/** The exports of transpose.wat (pointers are byte offsets into tfjs's heap). */
interface TransposeExports {
  swap_outer_inner(src: number, dst: number, outer: number, middle: number, inner: number): void;
}

const TRANSPOSE: SimdModuleSource = { name: 'transpose', plain: TRANSPOSE_WASM, shared: TRANSPOSE_WASM_SHARED };

/** The two permutations of a 4-D tensor the filter gradient's convolutions take their operands in. */
export type FilterGradPerm = readonly [3, 1, 2, 0] | readonly [1, 2, 0, 3];

/**
 * 4-D float32 `x` ([b, h, w, c]) transposed by `perm` on the wasm heap:
 * [3, 1, 2, 0] by transpose.wat (4×4 tiles transposed in registers),
 * [1, 2, 0, 3] (each [h, w] position's c values moved as one block) by
 * copy-blocks.wat, one call per [h, w] position (dst written in order). Returns the new tensor, or null (nothing
 * allocated) when x is not float32 or a module it needs is unavailable (not
 * tfjs's wasm backend, no WebAssembly SIMD, or turned off by
 * `ARABOZA_TFJS_SIMD` = `0` or a list naming `transpose` or, for
 * [1, 2, 0, 3], `copy-blocks`); the caller then takes tfjs's `Transpose`.
 */
export function simdTranspose(backend: tf.KernelBackend, x: TensorInfo, perm: FilterGradPerm): TensorInfo | null {
  if (x.dtype !== 'float32' || x.shape.length !== 4) return null;
  const heap = simdModuleOn<TransposeExports>(backend, TRANSPOSE);
  if (!heap) return null;
  const [b, h, w, c] = x.shape;
  if (perm[0] === 3) {
    const out = heap.makeOutput([c, h, w, b]);
    heap.exports.swap_outer_inner(heap.offset(x), heap.offset(out), b, h * w, c);
    return out;
  }
  const blocks = copyBlocksOn(backend);
  if (!blocks) return null;
  const out = blocks.makeOutput([h, w, b, c]);
  const [src, dst] = [blocks.offset(x), blocks.offset(out)];
  for (let m = 0; m < h * w; m++) blocks.exports.copy_blocks(dst + 4 * m * b * c, c, src + 4 * m * c, h * w * c, b, c);
  return out;
}
