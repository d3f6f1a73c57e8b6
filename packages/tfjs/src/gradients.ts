/**
 * Registers tfjs-core's gradient functions (the `@tensorflow/tfjs` bundle did
 * this; tfjs-core alone does not). tfjs-core publishes them only as ES
 * modules with extensionless relative imports in a package that is not
 * `"type": "module"`, which Node cannot load; the build therefore replaces
 * this file's output with a bundle of that module (see rolldown.config.ts),
 * while vitest transforms it from source. Gradients are kept in a registry
 * on the global object, so the bundled copy registers them where the engine
 * of `@tensorflow/tfjs-core` looks them up.
 */
import '@tensorflow/tfjs-core/dist/register_all_gradients';
