import { sizeOfShape, type ModelGraph } from '@araboza/core';
import type { EngineName } from './engines.js';

/**
 * Default bytes of live tensors one chunk of a batch may use, per engine.
 * wasm's heap is 32-bit: it grows to about 4 GB here and then fails with
 * "memory access out of bounds" (measured), so big batches run in chunks well
 * below that; the JS and native engines have no such wall, but chunking
 * still bounds their peak memory.
 */
export const DEFAULT_CHUNK_BYTES: { readonly [E in EngineName]: number } = {
  wasm: 512 * 2 ** 20,
  cpu: 2 * 2 ** 30,
  tensorflow: 2 * 2 ** 30,
  // GPU memory in a page is shared with the display and other tabs; WebGL textures and
  // WebGPU buffers count against it, and WebGPU's default maxStorageBufferBindingSize is 128 MiB.
  webgl: 256 * 2 ** 20,
  webgpu: 128 * 2 ** 20,
};

/** Live float32 bytes per sample: every input and every node's output (×3 when training keeps activations and gradients). */
export function bytesPerSample(graph: ModelGraph, training: boolean): number {
  const floats = graph.inputs.reduce((n, input) => n + sizeOfShape(input.shape), 0) + graph.nodes.reduce((n, node) => n + sizeOfShape(node.outputShape), 0);
  return floats * 4 * (training ? 3 : 1);
}

/** Rows per chunk so that a chunk stays within `budget` bytes (at least one row). */
export function chunkRows(graph: ModelGraph, training: boolean, budget: number): number {
  return Math.max(1, Math.floor(budget / Math.max(1, bytesPerSample(graph, training))));
}

/** The `[start, size)` row ranges covering a batch of `batch` rows in chunks of `rows`. */
export function chunkRanges(batch: number, rows: number): { start: number; size: number }[] {
  const ranges: { start: number; size: number }[] = [];
  for (let start = 0; start < batch; start += rows) ranges.push({ start, size: Math.min(rows, batch - start) });
  return ranges;
}
