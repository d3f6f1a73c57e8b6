/**
 * @packageDocumentation
 * araboza's ONNX Runtime backend on onnxruntime-web (browsers; Node works
 * too): the same generated inference and train-step models as the Node
 * entry, run by onnxruntime-web's WebAssembly provider (multi-threaded when
 * the page is cross-origin isolated) or its WebGPU provider.
 */
import { ConfigError, type Backend, type CompiledModel, type ModelGraph, type TrainingSpec } from '@araboza/core';
import * as ort from 'onnxruntime-web';
import { compileOn, ONNX_KINDS } from './session-backend.js';
import { WEB_DEVICES, WebSessionSource, type WebDeviceName } from './web-runtime.js';

export { WEB_DEVICES, fillPreallocatedOutputs, type WebDeviceName } from './web-runtime.js';
export { buildInferenceModel, buildTrainStepModel, buildEvalModel, weightEntries, type WeightEntry } from './model-gen.js';

/** Options of {@link onnxruntimeWebBackend}. */
export interface OnnxruntimeWebBackendOptions {
  /** `wasm` (default; WebAssembly on the CPU) or `webgpu` (a BackendError at compile when no adapter is found). */
  device?: WebDeviceName;
  /**
   * WebAssembly threads (onnxruntime-web's `env.wasm.numThreads`, global to
   * the page). Default: onnxruntime-web's, several when the page is
   * cross-origin isolated (COOP/COEP headers), else one.
   */
  threads?: number;
  /** Where the page serves onnxruntime-web's `.wasm`/`.mjs` files (`env.wasm.wasmPaths`); default: beside its bundle, which Vite and esbuild handle. */
  wasmPaths?: string | Record<string, string>;
  /** Approximate bytes of activations per run in predict and evaluate (default 256 MiB); larger batches run in chunks. */
  runBytes?: number;
}

const OPTION_NAMES = ['device', 'threads', 'wasmPaths', 'runBytes'];

/** The onnxruntime-web backend: an araboza {@link Backend} named `onnxruntime-web-<device>`. */
export interface OnnxruntimeWebBackend extends Backend {
  /** The provider sessions run on. */
  readonly device: WebDeviceName;
}

/**
 * Creates the onnxruntime-web backend.
 * @throws ConfigError for an unknown option or device, a bad thread count or run size.
 */
export function onnxruntimeWebBackend(options: OnnxruntimeWebBackendOptions = {}): OnnxruntimeWebBackend {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError(`onnxruntimeWebBackend: options must be an object, got ${JSON.stringify(options)}`);
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) throw new ConfigError(`onnxruntimeWebBackend: unknown option '${key}' (known: ${OPTION_NAMES.join(', ')})`);
  }
  const device = options.device ?? 'wasm';
  if (!WEB_DEVICES.includes(device)) {
    throw new ConfigError(`onnxruntimeWebBackend: unknown device ${JSON.stringify(device)}; expected one of ${WEB_DEVICES.map((d) => `'${d}'`).join(', ')}`);
  }
  const { threads, runBytes, wasmPaths } = options;
  if (threads !== undefined && !(Number.isInteger(threads) && threads > 0)) {
    throw new ConfigError(`onnxruntimeWebBackend: threads must be a positive integer, got ${JSON.stringify(threads)}`);
  }
  if (runBytes !== undefined && !(Number.isInteger(runBytes) && runBytes > 0)) {
    throw new ConfigError(`onnxruntimeWebBackend: runBytes must be a positive integer, got ${JSON.stringify(runBytes)}`);
  }
  if (wasmPaths !== undefined && typeof wasmPaths !== 'string' && (typeof wasmPaths !== 'object' || wasmPaths === null)) {
    throw new ConfigError(`onnxruntimeWebBackend: wasmPaths must be a URL prefix or a map of file names to URLs, got ${JSON.stringify(wasmPaths)}`);
  }
  if (threads !== undefined) ort.env.wasm.numThreads = threads;
  if (wasmPaths !== undefined) ort.env.wasm.wasmPaths = wasmPaths;
  const sessions = new WebSessionSource(device);
  const backend: OnnxruntimeWebBackend = {
    name: `onnxruntime-web-${device}`,
    kinds: ONNX_KINDS,
    device,
    compile: (graph: ModelGraph, training?: TrainingSpec): Promise<CompiledModel> => compileOn(backend, sessions, runBytes, graph, training),
  };
  return backend;
}

/** The conventional backend factory every araboza backend entry exports: the same as {@link onnxruntimeWebBackend}. */
export function createBackend(options?: OnnxruntimeWebBackendOptions): OnnxruntimeWebBackend {
  return onnxruntimeWebBackend(options);
}
