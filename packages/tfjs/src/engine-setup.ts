/**
 * Starting tfjs's engines. This module holds every side-effect import of tfjs
 * (backend and gradient registration); the public modules import only its
 * functions, so that their declaration files, which keep side-effect
 * imports, never lead a user's type check into tfjs's types.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import './gradients.js';
import { BackendError } from '@araboza/core';
import { registerCpuKernels, registerWasmKernels } from './kernels/register.js';
import { startThreadedWasm, type PthreadPool } from './runtime-paths.js';

const TFJS_NODE = '@tensorflow/tfjs-node';

/**
 * Registers araboza's wasm kernels and starts tfjs's wasm backend on the
 * binaries in `binaryFolder`: the single-threaded SIMD binary, or with
 * `threads` > 1 the threaded one (XNNPACK's operators split over a pool of
 * `threads` threads; see `startThreadedWasm`).
 */
export async function initialiseWasm(binaryFolder: string | Readonly<Record<string, string>>, threads: number): Promise<void> {
  // Binaries come from the installed package; tfjs would otherwise try to fetch them.
  setWasmPaths(binaryFolder as string | { [file: string]: string });
  registerWasmKernels();
  let started: boolean;
  if (threads > 1) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    setThreadsCount(threads);
    started = await startThreadedWasm(
      threads,
      () => tf.setBackend('wasm'),
      () => (tf.findBackend('wasm') as unknown as { wasm?: { PThread?: PthreadPool } } | null)?.wasm?.PThread,
    );
  } else {
    started = await tf.setBackend('wasm');
  }
  if (!started) throw new BackendError('tfjs engine wasm failed to initialise (see the warning tfjs printed above)');
}

/**
 * Loads tfjs's `webgl` or `webgpu` backend (a browser's GPU; imported only
 * when asked for, so Node and bundles that never use them do not load them)
 * and starts it. Both have every gradient kernel araboza's layers need
 * (Conv2DBackpropFilter/Input, MaxPoolGrad), so none is registered.
 */
export async function initialiseGpu(engine: 'webgl' | 'webgpu'): Promise<void> {
  if (engine === 'webgl') await import('@tensorflow/tfjs-backend-webgl');
  else await import('@tensorflow/tfjs-backend-webgpu');
  let started = false;
  try {
    started = await tf.setBackend(engine);
  } catch (e) {
    throw new BackendError(`tfjs engine ${engine} failed to initialise: ${(e as Error).message}`);
  }
  if (!started)
    throw new BackendError(
      `tfjs engine ${engine} failed to initialise (no ${engine === 'webgl' ? 'WebGL 2' : 'WebGPU adapter'} here; see tfjs's warning above)`,
    );
}

/** Registers araboza's cpu kernels and starts tfjs's cpu backend. */
export async function initialiseCpu(): Promise<void> {
  registerCpuKernels();
  if (!(await tf.setBackend('cpu'))) throw new BackendError('tfjs engine cpu failed to initialise');
}

/** Loads `@tensorflow/tfjs-node` (the user's install) and starts its backend. */
export async function initialiseTensorflow(): Promise<void> {
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
      '@tensorflow/tfjs-node is installed but registered its backend in another copy of @tensorflow/tfjs-core; install @tensorflow/tfjs-node 4.22.0, the version matching @tensorflow/tfjs-core 4.22.0, so there is a single copy',
    );
  }
  if (!(await tf.setBackend('tensorflow'))) throw new BackendError('tfjs engine tensorflow failed to initialise');
}
