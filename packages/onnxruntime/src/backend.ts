import { ConfigError, type Backend, type CompiledModel, type ModelGraph, type TrainingSpec } from '@araboza/core';
import { DEVICES, SessionFactory, type DeviceName, type ResolvedDevice } from './device.js';
import { compileOn, ONNX_KINDS } from './session-backend.js';

/** Options of {@link onnxruntimeBackend}. */
export interface OnnxruntimeBackendOptions {
  /**
   * `cpu` (default), `cuda` (error when the CUDA provider is missing),
   * `webgpu` (error when no GPU adapter is found) or `auto` (CUDA if it
   * works, else WebGPU, else CPU, said once).
   */
  device?: DeviceName;
  /** Intra-op threads per session (default: ONNX Runtime's, one per physical core). */
  threads?: number;
  /**
   * Whether idle intra-op threads spin-wait for the next op instead of
   * sleeping (default true, as ONNX Runtime). A train step runs a few hundred
   * short ops, and waking sleeping threads for each costs more than the
   * spinning (measured on the MNIST autoencoder's step: bench/RESULTS.md).
   * Turn it off when other busy processes share the
   * cores: spinning threads then take CPU time from them.
   */
  spinning?: boolean;
  /**
   * Approximate bytes of activations per `session.run` in predict and
   * evaluate (default 256 MiB); larger batches run in chunks of rows.
   */
  runBytes?: number;
  /** Receives the one-time message saying which provider `auto` chose (default `console.warn`). */
  logger?: (message: string) => void;
}

/** The ONNX Runtime backend: an araboza {@link Backend} plus the device it resolved to. */
export interface OnnxruntimeBackend extends Backend {
  /** The device asked for. */
  readonly requestedDevice: DeviceName;
  /** The device sessions run on, known after the first compile (null before). */
  readonly device: ResolvedDevice | null;
}

const OPTION_NAMES = ['device', 'threads', 'spinning', 'runBytes', 'logger'];

/**
 * Creates the ONNX Runtime backend. Every compiled graph is turned into
 * generated ONNX models (inference, evaluation, train step, gradients) run
 * by onnxruntime-node on the CPU, on any GPU through the built-in WebGPU
 * provider or, with the CUDA provider installed, on an NVIDIA GPU.
 * @throws ConfigError for an unknown option, device or a bad thread count.
 */
export function onnxruntimeBackend(options: OnnxruntimeBackendOptions = {}): OnnxruntimeBackend {
  if (typeof options !== 'object' || options === null) throw new ConfigError(`onnxruntimeBackend: options must be an object, got ${JSON.stringify(options)}`);
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) throw new ConfigError(`onnxruntimeBackend: unknown option '${key}' (known: ${OPTION_NAMES.join(', ')})`);
  }
  const requested = options.device ?? 'cpu';
  if (!DEVICES.includes(requested)) {
    throw new ConfigError(`onnxruntimeBackend: unknown device ${JSON.stringify(requested)}; expected one of ${DEVICES.map((d) => `'${d}'`).join(', ')}`);
  }
  const { threads } = options;
  if (threads !== undefined && !(Number.isInteger(threads) && threads > 0)) {
    throw new ConfigError(`onnxruntimeBackend: threads must be a positive integer, got ${JSON.stringify(threads)}`);
  }
  const { spinning } = options;
  if (spinning !== undefined && typeof spinning !== 'boolean') {
    throw new ConfigError(`onnxruntimeBackend: spinning must be true or false, got ${JSON.stringify(spinning)}`);
  }
  const { runBytes } = options;
  if (runBytes !== undefined && !(Number.isInteger(runBytes) && runBytes > 0)) {
    throw new ConfigError(`onnxruntimeBackend: runBytes must be a positive integer, got ${JSON.stringify(runBytes)}`);
  }
  const logger = options.logger ?? ((m: string) => console.warn(m));
  const sessions = new SessionFactory(requested, { threads, spinning: spinning ?? true }, logger);
  const backend: OnnxruntimeBackend = {
    get name() {
      return `onnxruntime-${sessions.current ?? requested}`;
    },
    kinds: ONNX_KINDS,
    requestedDevice: requested,
    get device() {
      return sessions.current;
    },
    compile: (graph: ModelGraph, training?: TrainingSpec): Promise<CompiledModel> => compileOn(backend, sessions, runBytes, graph, training),
  };
  return backend;
}

/**
 * The conventional backend factory every araboza backend package exports
 * (the conformance CLI looks for it): the same as {@link onnxruntimeBackend}.
 */
export function createBackend(options?: OnnxruntimeBackendOptions): OnnxruntimeBackend {
  return onnxruntimeBackend(options);
}
