/**
 * @packageDocumentation
 * araboza backend on TensorFlow.js: every core layer kind lowered to tfjs
 * ops (NHWC), training with tfjs autodiff and core's loss and optimizer
 * formulas, on the wasm (SIMD), cpu or native tensorflow engine. Registers
 * fast convolution gradient kernels on wasm, which lacks them.
 */
export { tfjsBackend, createBackend, TFJS_KINDS, type TfjsBackendOptions } from './backend.js';
export { ENGINE_REQUESTS, activateEngine, wasmBinaryFolder, type EngineName, type EngineRequest } from './engines.js';
export { DEFAULT_CHUNK_BYTES } from './chunking.js';
export { LOWERINGS, type Lowering } from './lowerings.js';
export { registerWasmKernels, registerCpuKernels, conv2dBackpropFilterKernel, conv2dBackpropInputKernel, sharingIdentityKernel, WASM_KERNELS } from './kernels/register.js';
