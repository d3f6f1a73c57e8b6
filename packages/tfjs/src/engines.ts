import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { BackendError } from '@araboza/core';
import { createRequire } from 'node:module';
import path from 'node:path';
import { registerCpuKernels, registerWasmKernels } from './kernels/register.js';

/** A tfjs engine araboza can run on. */
export type EngineName = 'wasm' | 'cpu' | 'tensorflow';

/** What a user may ask for: an engine, or `auto` (the fastest available). */
export type EngineRequest = EngineName | 'auto';

/** Every engine request, for validation and messages. */
export const ENGINE_REQUESTS: readonly EngineRequest[] = ['wasm', 'cpu', 'tensorflow', 'auto'];

const require = createRequire(import.meta.url);
const initialised = new Map<EngineName, Promise<void>>();
const TFJS_NODE = '@tensorflow/tfjs-node';

/** The folder holding the installed wasm binaries, as a file path with a trailing separator. */
export function wasmBinaryFolder(): string {
  const pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return path.join(path.dirname(pkg), 'dist') + path.sep;
}

async function initialiseWasm(): Promise<void> {
  // Binaries come from the installed package; tfjs would otherwise try to fetch them.
  setWasmPaths(wasmBinaryFolder());
  registerWasmKernels();
  if (!(await tf.setBackend('wasm'))) throw new BackendError('tfjs engine wasm failed to initialise (see the warning tfjs printed above)');
}

async function initialiseCpu(): Promise<void> {
  registerCpuKernels();
  if (!(await tf.setBackend('cpu'))) throw new BackendError('tfjs engine cpu failed to initialise');
}

async function initialiseTensorflow(): Promise<void> {
  try {
    await import(TFJS_NODE);
  } catch (e) {
    throw new BackendError(
      `tfjs engine 'tensorflow' needs @tensorflow/tfjs-node, which is not installed (${(e as Error).message.split('\n')[0]}); ` +
        `install it with \`npm install @tensorflow/tfjs-node@4.22.0\` (it downloads libtensorflow), or use engine 'wasm'`,
    );
  }
  if (!tf.findBackendFactory('tensorflow')) {
    throw new BackendError(
      "@tensorflow/tfjs-node is installed but registered its backend in another copy of @tensorflow/tfjs-core; install the version matching @tensorflow/tfjs 4.22.0 so there is a single copy",
    );
  }
  if (!(await tf.setBackend('tensorflow'))) throw new BackendError('tfjs engine tensorflow failed to initialise');
}

/** Initialises an engine once per process. */
function initialise(engine: EngineName): Promise<void> {
  let ready = initialised.get(engine);
  if (!ready) {
    ready =
      engine === 'wasm'
        ? initialiseWasm()
        : engine === 'tensorflow'
          ? initialiseTensorflow()
          : initialiseCpu();
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
