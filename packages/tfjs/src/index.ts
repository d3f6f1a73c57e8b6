/**
 * @packageDocumentation
 * araboza backend on TensorFlow.js: every core layer kind lowered to tfjs
 * ops (NHWC), training with tfjs autodiff and core's loss and optimizer
 * formulas, on the wasm (SIMD), cpu or native tensorflow engine. Registers
 * fast convolution gradient kernels on wasm, which lacks them.
 */
export { tfjsBackend, createBackend, TFJS_KINDS, type TfjsBackendOptions } from './backend.js';
export { ENGINE_REQUESTS, activateEngine, wasmBinaryFolder, type EngineName, type EngineRequest } from './engines.js';
export { setWasmBinaryFolder, type WasmLocation } from './wasm-location.js';
export { DEFAULT_CHUNK_BYTES } from './chunking.js';
// Lowering tables and kernel configs stay internal: their types are tfjs's,
// and a public .d.ts naming them would make users' type checks read tfjs.
export { registerWasmKernels, registerCpuKernels, WASM_KERNELS } from './kernels/register.js';
