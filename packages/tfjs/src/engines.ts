import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '@araboza/core';
import { initialiseCpu, initialiseGpu, initialiseTensorflow, initialiseWasm } from './engine-setup.js';
import { wasmLocation } from './wasm-location.js';

export { wasmBinaryFolder } from './runtime-paths.js';

/** A tfjs engine araboza can run on. */
export type EngineName = 'wasm' | 'cpu' | 'tensorflow' | 'webgl' | 'webgpu';

/** What a user may ask for: an engine, or `auto` (the fastest available). */
export type EngineRequest = EngineName | 'auto';

/** Every engine request, for validation and messages. */
export const ENGINE_REQUESTS: readonly EngineRequest[] = ['wasm', 'cpu', 'tensorflow', 'webgl', 'webgpu', 'auto'];

const initialised = new Map<EngineName, Promise<void>>();

/** Initialises an engine once per process. */
function initialise(engine: EngineName): Promise<void> {
  let ready = initialised.get(engine);
  if (!ready) {
    ready =
      engine === 'wasm'
        ? initialiseWasm(wasmLocation())
        : engine === 'tensorflow'
          ? initialiseTensorflow()
          : engine === 'cpu'
            ? initialiseCpu()
            : initialiseGpu(engine);
    // A failed start may be retried later (e.g. after the user installs tfjs-node).
    ready.catch(() => initialised.delete(engine));
    initialised.set(engine, ready);
  }
  return ready;
}

/**
 * Makes an initialised engine tfjs's current backend, synchronously (tfjs's
 * setBackend does all its work before its first await when the backend is
 * initialised). Called at the start of every synchronous block of work, so
 * that no other compiled model can switch the engine in between.
 */
export function selectEngine(engine: EngineName): void {
  if (tf.getBackend() === engine) return;
  void tf.setBackend(engine);
  if (tf.getBackend() !== engine) throw new BackendError(`tfjs engine ${engine} is not initialised; await activateEngine('${engine}') first`);
}

/**
 * Initialises `engine` (once per process) and makes it tfjs's current
 * backend. tfjs has one global engine, so every compiled model calls this
 * before its work, and {@link selectEngine} again right before each
 * synchronous block; tensors made on another engine are moved by tfjs on
 * first use.
 */
export async function activateEngine(engine: EngineName): Promise<void> {
  await initialise(engine);
  selectEngine(engine);
}
