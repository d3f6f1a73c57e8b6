import { defineConfig } from 'rolldown';

/**
 * Replaces tsc's `dist/gradients.js` (one import of tfjs-core's
 * `register_all_gradients`, which Node cannot load: see src/gradients.ts)
 * with a self-contained ES module. It inlines the tfjs-core internals the
 * gradient functions use; those find tfjs-core's engine and registries on
 * the global object, as the `@tensorflow/tfjs` bundle's inlined copy does.
 */
export default defineConfig({
  input: 'src/gradients.ts',
  platform: 'node',
  treeshake: { moduleSideEffects: true },
  output: { file: 'dist/gradients.js', format: 'esm', minify: true, sourcemap: false },
});
