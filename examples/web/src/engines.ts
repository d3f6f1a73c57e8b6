import type { Backend } from '@araboza/core';
import { onnxruntimeWebBackend } from '@araboza/onnxruntime/web';
import { setWasmBinaryFolder, tfjsBackend } from '@araboza/tfjs';
import { env } from '@tensorflow/tfjs-core';
import wasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

/** The engines the page can train on. */
export const ENGINES = ['tfjs-wasm', 'tfjs-webgl', 'tfjs-webgpu', 'onnxruntime-web-wasm', 'onnxruntime-web-webgpu'] as const;

/** One of {@link ENGINES}. */
export type Engine = (typeof ENGINES)[number];

// tfjs-backend-wasm's threaded build starts its workers from a copy of its loader's source held as a string, which
// names the loader's own identifiers; once a bundler renames them, the worker fails with "ReferenceError: e is not
// defined" and the page hangs (seen here with Vite 8). The page is cross-origin isolated, so tfjs would pick that
// build: it is told threads are unavailable, and runs the single-threaded SIMD build.
env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);

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
