import {
  BackendError,
  ConfigError,
  assertBackendSupports,
  type Backend,
  type CompiledModel,
  type LayerKind,
  type ModelGraph,
  type TrainingSpec,
} from '@araboza/core';
import { DEFAULT_CHUNK_BYTES } from './chunking.js';
import { TfjsCompiledModel } from './compiled-model.js';
import { ENGINE_REQUESTS, activateEngine, selectEngine, type EngineName, type EngineRequest } from './engines.js';
import { LOWERINGS } from './lowerings.js';
import { tfjsNodeInstalled } from './runtime-paths.js';

/** Options of {@link tfjsBackend}. */
export interface TfjsBackendOptions {
  /**
   * `wasm` (SIMD, single-threaded in Node; the default), `cpu` (pure JS,
   * slow), `tensorflow` (native, needs `@tensorflow/tfjs-node` installed by
   * the user), `webgl` or `webgpu` (browsers) or `auto` (tensorflow when
   * installed, else wasm).
   */
  engine?: EngineRequest;
  /** Reject NaN or ±Infinity in inputs and targets with a clear error (default false: scanning costs a pass over the data). */
  checkFinite?: boolean;
  /** Bytes of live tensors one chunk of a batch may use; larger batches run in chunks (default per engine, see README). */
  maxChunkBytes?: number;
  /** Where `auto` reports its choice (default `console.info`). */
  log?: (message: string) => void;
  /**
   * Threads of the wasm engine in Node (an integer 1–8, default 1): more
   * than 1 runs tfjs's threaded wasm binary, whose XNNPACK operators
   * (convolutions, matrix products, pooling) split their work over that
   * many worker threads; element-wise ops and araboza's JS kernels stay on
   * the main thread. Fixed for the process when the wasm engine first
   * starts. Only with engine `wasm` (or `auto` choosing it).
   */
  threads?: number;
}

const OPTION_NAMES = ['engine', 'checkFinite', 'maxChunkBytes', 'log', 'threads'];
/** Most threads the wasm engine may use (emscripten's pre-started pthread pool has 8 workers). */
const MAX_WASM_THREADS = 8;
let autoAnnounced = false;

/** The engine an `auto` request means here: tensorflow when tfjs-node is installed, else wasm. */
function pickEngine(request: EngineRequest, log: (message: string) => void): EngineName {
  if (request !== 'auto') return request;
  const engine: EngineName = tfjsNodeInstalled() ? 'tensorflow' : 'wasm';
  if (!autoAnnounced) {
    autoAnnounced = true;
    log(
      engine === 'tensorflow'
        ? '@araboza/tfjs: engine auto → tensorflow (@tensorflow/tfjs-node)'
        : '@araboza/tfjs: engine auto → wasm (SIMD; @tensorflow/tfjs-node is not installed)',
    );
  }
  return engine;
}

/** Every layer kind this backend lowers, read from the lowering table itself. */
export const TFJS_KINDS: readonly LayerKind[] = Object.keys(LOWERINGS) as LayerKind[];

/**
 * The TensorFlow.js backend: compiles araboza graphs to tfjs ops on one
 * engine. Several backends and compiled models may coexist; each activates
 * its engine before it works (tfjs's engine is global).
 * @throws ConfigError for an unknown option, BackendError for an unknown engine.
 */
export function tfjsBackend(options: TfjsBackendOptions = {}): Backend {
  if (typeof options !== 'object' || options === null) throw new ConfigError(`tfjsBackend: options must be an object, got ${JSON.stringify(options)}`);
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) throw new ConfigError(`tfjsBackend: unknown option '${key}' (known: ${OPTION_NAMES.join(', ')})`);
  }
  const request = options.engine ?? 'wasm';
  if (!ENGINE_REQUESTS.includes(request)) {
    throw new BackendError(`tfjsBackend: engine must be one of ${ENGINE_REQUESTS.join(', ')}; got ${JSON.stringify(request)}`);
  }
  if (options.maxChunkBytes !== undefined && !(Number.isFinite(options.maxChunkBytes) && options.maxChunkBytes > 0)) {
    throw new ConfigError(`tfjsBackend: maxChunkBytes must be a positive number, got ${JSON.stringify(options.maxChunkBytes)}`);
  }
  const threads = options.threads;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= MAX_WASM_THREADS)) {
    throw new ConfigError(`tfjsBackend: threads must be an integer from 1 to ${MAX_WASM_THREADS}, got ${JSON.stringify(threads)}`);
  }
  const log = options.log ?? ((m: string) => console.info(m));
  const engine = pickEngine(request, log);
  if (threads !== undefined && threads !== 1 && engine !== 'wasm') {
    throw new ConfigError(`tfjsBackend: threads: ${threads} is for engine wasm; engine ${engine} runs its own way`);
  }
  const settings = {
    engine,
    checkFinite: options.checkFinite ?? false,
    chunkBytes: options.maxChunkBytes ?? DEFAULT_CHUNK_BYTES[engine],
  };
  const backend: Backend = {
    name: `tfjs-${engine}`,
    kinds: TFJS_KINDS,
    async compile(graph: ModelGraph, training?: TrainingSpec): Promise<CompiledModel> {
      assertBackendSupports(backend, graph);
      await activateEngine(engine, engine === 'wasm' ? threads : undefined);
      selectEngine(engine);
      return new TfjsCompiledModel(graph, training, settings);
    },
  };
  return backend;
}

/**
 * The conventional backend factory every araboza backend package exports
 * (the conformance CLI looks for it): same as {@link tfjsBackend}.
 */
export function createBackend(options?: TfjsBackendOptions): Backend {
  return tfjsBackend(options);
}
