import type { Backend } from '@araboza/core';
import { onnxruntimeBackend } from '@araboza/onnxruntime';
import { tfjsBackend } from '@araboza/tfjs';

/** Every backend and engine the reliability tests run on, by name, each a fresh instance per call. */
export const BACKENDS: [string, () => Backend][] = [
  ['onnxruntime-cpu', () => onnxruntimeBackend({ device: 'cpu' })],
  ['tfjs-wasm', () => tfjsBackend({ engine: 'wasm' })],
  ['tfjs-cpu', () => tfjsBackend({ engine: 'cpu' })],
];

/**
 * The pair a fuzz regression test compares with `checkFuzzCase`: the
 * fuzzer's reference, onnxruntime-cpu, and tfjs-wasm, fresh instances.
 */
export function fuzzPair(): [onnxruntime: Backend, wasm: Backend] {
  return [onnxruntimeBackend({ device: 'cpu' }), tfjsBackend({ engine: 'wasm' })];
}
