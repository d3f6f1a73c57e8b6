import { defineConfig } from 'vite';

export default defineConfig({
  // onnxruntime-web finds its .wasm beside its module (new URL(..., import.meta.url)); pre-bundling would move the module away from it.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 30_000,
    // tfjs-backend-wasm's threaded build starts each worker from its Emscripten factory's source text
    // (`wasmFactoryThreadedSimd.toString()`), run outside the closure it was written in; the factory reads that closure's
    // `_scriptDir` behind a `typeof _scriptDir !== "undefined"` guard. Vite's default minifier renames `_scriptDir`
    // (the worker then throws "ReferenceError: e is not defined" and the page hangs) and, told to keep the name, still
    // folds the guard away because the variable is declared ("ReferenceError: _scriptDir is not defined"). So: no
    // compression, and `_scriptDir` keeps its name (the bundle grows ~5 %). scripts/browser-check.mjs checks that
    // tfjs-wasm trains on its threaded build.
    rolldownOptions: { output: { minify: { compress: false, codegen: true, mangle: { reserved: ['_scriptDir'] } } } },
  },
  worker: { format: 'es' },
});
