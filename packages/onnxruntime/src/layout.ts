import type { Tensor } from '@araboza/core';
import type { Dim } from './onnx-graph.js';

/**
 * Memory layout of an activation inside a generated model. `keras` is the
 * channels-last layout of araboza's tensors; `channelsFirst` moves the last
 * axis to position 1 (NHWC → NCHW, NLC → NCL), the layout ONNX's Conv and
 * pooling ops use. A tensor with one axis per sample has one layout only
 * and is always `keras`.
 */
export type Layout = 'keras' | 'channelsFirst';

/** An activation in a generated model: its value name, its Keras per-sample shape and its layout. */
export interface Value {
  readonly name: string;
  /** Shape without the batch axis, in Keras (channels-last) order. */
  readonly perSample: readonly number[];
  readonly layout: Layout;
}

/** The layout a value of this per-sample rank actually gets when `wanted` is asked for. */
export function effectiveLayout(perSample: readonly number[], wanted: Layout): Layout {
  return perSample.length < 2 ? 'keras' : wanted;
}

/** Full shape (batch axis first) of a per-sample Keras shape stored in `layout`. */
export function layoutShape(perSample: readonly number[], layout: Layout): Dim[] {
  if (effectiveLayout(perSample, layout) === 'keras') return ['N', ...perSample];
  return ['N', perSample[perSample.length - 1], ...perSample.slice(0, -1)];
}

/**
 * The full-rank axis (batch axis 0) holding per-sample Keras axis `axis` of
 * a value with per-sample rank `rank` stored in `layout`: channels-first
 * moves the last per-sample axis to 1 and shifts the others by one.
 */
export function layoutAxis(rank: number, axis: number, layout: Layout): number {
  if (rank < 2 || layout === 'keras') return axis + 1;
  return axis === rank - 1 ? 1 : axis + 2;
}

/** Transpose perm taking a full-rank channels-last tensor to channels-first. */
export function toChannelsFirstPerm(rank: number): number[] {
  return [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
}

/** Transpose perm taking a full-rank channels-first tensor back to channels-last. */
export function toChannelsLastPerm(rank: number): number[] {
  return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
}

/** The inverse of a permutation. */
export function invertPerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/**
 * Permutes a host tensor's axes (`out.shape[i] = t.shape[perm[i]]`). Used
 * only at the boundary, to convert kernels between Keras and ONNX layouts.
 */
export function permuteTensor(t: Tensor, perm: readonly number[]): Tensor {
  const rank = t.shape.length;
  const outShape = perm.map((p) => t.shape[p]);
  const inStrides = new Array<number>(rank);
  let stride = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = stride;
    stride *= t.shape[i];
  }
  const out = new Float32Array(t.data.length);
  const idx = new Array<number>(rank).fill(0);
  const permStrides = perm.map((p) => inStrides[p]);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < rank; i++) src += idx[i] * permStrides[i];
    out[o] = t.data[src];
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i] < outShape[i]) break;
      idx[i] = 0;
    }
  }
  return { shape: outShape, data: out };
}
