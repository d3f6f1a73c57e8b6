import type { Backend } from '@araboza/core';
import { onnxruntimeBackend } from '@araboza/onnxruntime';
import { tfjsBackend } from '@araboza/tfjs';

/** Every backend and engine the reliability tests run on, by name, each a fresh instance per call. */
export const BACKENDS: [string, () => Backend][] = [
  ['onnxruntime-cpu', () => onnxruntimeBackend({ device: 'cpu' })],
  ['tfjs-wasm', () => tfjsBackend({ engine: 'wasm' })],
  ['tfjs-cpu', () => tfjsBackend({ engine: 'cpu' })],
];
