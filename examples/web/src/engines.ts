import type { Backend } from '@araboza/core';
import { onnxruntimeWebBackend } from '@araboza/onnxruntime/web';
import { setWasmBinaryFolder, tfjsBackend } from '@araboza/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { env } from '@tensorflow/tfjs-core';
import wasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

/** The engines the page can train on. */
export const ENGINES = ['tfjs-wasm', 'tfjs-webgl', 'tfjs-webgpu', 'onnxruntime-web-wasm', 'onnxruntime-web-webgpu'] as const;

/** One of {@link ENGINES}. */
export type Engine = (typeof ENGINES)[number];

// The page is cross-origin isolated, so tfjs runs its threaded SIMD wasm build; that build needs vite.config.ts's
// minify settings (it starts its workers from its loader's source text, which the default minifier breaks).
// `?tfjs-threads=0` in the page's URL runs the single-threaded SIMD build instead (on this repository's 2-core machine
// XNNPACK runs the threaded build on 1 thread, so it is no faster there).
if (new URLSearchParams(location.search).get('tfjs-threads') === '0') env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);

/** Which of tfjs's wasm builds the wasm engine runs, and on how many threads. */
export interface TfjsWasmBuild {
  build: 'threaded-simd' | 'simd' | 'plain';
  threads: number;
}

/** The tfjs wasm build this page runs; call it once the wasm engine has started (after a training step). */
export async function tfjsWasmBuild(): Promise<TfjsWasmBuild> {
  const [simd, threads] = await Promise.all([env().getAsync('WASM_HAS_SIMD_SUPPORT'), env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')]);
  return { build: simd && threads ? 'threaded-simd' : simd ? 'simd' : 'plain', threads: getThreadsCount() };
}

// Vite serves tfjs's wasm binaries as assets; the wasm engine loads them from these URLs.
setWasmBinaryFolder({ 'tfjs-backend-wasm.wasm': wasm, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd });

/** A fresh backend for an engine. */
export function backendFor(engine: Engine): Backend {
  switch (engine) {
    case 'tfjs-wasm':
      return tfjsBackend({ engine: 'wasm' });
    case 'tfjs-webgl':
      return tfjsBackend({ engine: 'webgl' });
    case 'tfjs-webgpu':
      return tfjsBackend({ engine: 'webgpu' });
    case 'onnxruntime-web-wasm':
      return onnxruntimeWebBackend({ device: 'wasm' });
    case 'onnxruntime-web-webgpu':
      return onnxruntimeWebBackend({ device: 'webgpu' });
  }
}
