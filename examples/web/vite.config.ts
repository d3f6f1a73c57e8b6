import { defineConfig } from 'vite';

export default defineConfig({
  // onnxruntime-web finds its .wasm beside its module (new URL(..., import.meta.url)); pre-bundling would move the module away from it.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: { target: 'es2022', chunkSizeWarningLimit: 30_000 },
  worker: { format: 'es' },
});
