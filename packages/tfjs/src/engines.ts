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
/** The thread count the wasm engine was started with (it is fixed for the process). */
let wasmThreads: number | null = null;

/** Initialises an engine once per process; `threads` is the wasm engine's thread count (undefined: as started, else 1). */
function initialise(engine: EngineName, threads: number | undefined): Promise<void> {
  if (engine === 'wasm' && threads !== undefined && wasmThreads !== null && wasmThreads !== threads) {
    throw new BackendError(
      `tfjs engine wasm already runs with ${wasmThreads} thread${wasmThreads === 1 ? '' : 's'} in this process; asked for threads: ${threads} ` +
        '(the thread count is fixed when the wasm engine first starts: use the same threads option for every wasm backend)',
    );
  }
  let ready = initialised.get(engine);
  if (!ready) {
    if (engine === 'wasm') wasmThreads = threads ?? 1;
    ready =
      engine === 'wasm'
        ? initialiseWasm(wasmLocation(), threads ?? 1)
        : engine === 'tensorflow'
          ? initialiseTensorflow()
          : engine === 'cpu'
            ? initialiseCpu()
            : initialiseGpu(engine);
    // A failed start may be retried later (e.g. after the user installs tfjs-node).
    ready.catch(() => {
      initialised.delete(engine);
      if (engine === 'wasm') wasmThreads = null;
    });
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
 * first use. `threads` (wasm only) is fixed by the first start: 1 unless
 * given then; left out later, whatever the engine runs with.
 * @throws BackendError when the wasm engine already runs with another thread count than `threads`.
 */
export async function activateEngine(engine: EngineName, threads?: number): Promise<void> {
  await initialise(engine, threads);
  selectEngine(engine);
}
