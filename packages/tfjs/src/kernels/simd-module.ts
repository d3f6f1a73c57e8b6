import type * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from './kernel-scope.js';

/**
 * The environment variable that turns araboza's WebAssembly SIMD kernels off,
 * for A/B measurements: `0` turns every module off; a comma-separated list of
 * module names (`batch-norm,max-pool-grad`) turns those off. Off, each kernel
 * takes its other path (XNNPACK or plain JS).
 */
export const SIMD_ENV = 'ARABOZA_TFJS_SIMD';

/** One module compiled from `simd/NAME.wat`: its name (as {@link SIMD_ENV} spells it) and its two builds. */
export interface SimdModuleSource {
  /** The .wat file's name without the extension, e.g. `batch-norm`. */
  readonly name: string;
  /** The module importing a plain memory (tfjs's single-threaded wasm build), base64. */
  readonly plain: string;
  /** The module importing a shared memory (tfjs's threaded build), base64. */
  readonly shared: string;
}

/** A WebAssembly memory, as far as these modules look at one. */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}

/** A module instantiated on a wasm backend's heap, with what its callers need of that backend. */
export interface SimdHeap<Exports> {
  /** The module's exported functions (pointers are byte offsets into the heap). */
  readonly exports: Exports;
  /** tfjs's heap (its buffer is replaced when the heap grows: take views after allocating). */
  readonly memory: WasmMemory;
  /** Allocates a float32 tensor on the heap (may grow it; offsets stay valid). */
  makeOutput(shape: number[]): TensorInfo;
  /** The byte offset of a tensor's data in the heap. */
  offset(t: TensorInfo): number;
}

/** What this module reads of tfjs's wasm backend (not part of tfjs's KernelBackend interface). */
interface WasmBackendInternals {
  /** The emscripten module: its exports (`asm`, with the memory in the single-threaded build) and, threaded, `wasmMemory`. */
  wasm?: { asm?: { memory?: unknown }; wasmMemory?: unknown };
  getMemoryOffset?(dataId: tf.DataId): number;
  makeOutput?(shape: number[], dtype: 'float32'): TensorInfo;
}

/** The part of the WebAssembly JS API used here (the packages' lib, ES2022 without DOM, does not declare it). */
interface WebAssemblyApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: object };
}

const webAssembly = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;

/** Per tfjs heap (a backend's memory never changes; its buffer does, as it grows), each module's exports or null (failed). */
const instances = new WeakMap<WasmMemory, Map<string, object | null>>();

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** Whether {@link SIMD_ENV} turns module `name` off (`0`, or a list naming it). */
export function simdDisabled(name: string): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.[SIMD_ENV];
  if (value === undefined) return false;
  const names = value.split(',').map((s) => s.trim());
  return names.includes('0') || names.includes(name);
}

/**
 * Module `source` instantiated on `backend`'s own heap, or null when it
 * cannot be: turned off by {@link SIMD_ENV}, the backend is not tfjs's wasm
 * backend (no emscripten module, no heap offsets), its memory cannot be
 * reached (neither `wasm.asm.memory`, the single-threaded build's export,
 * nor `wasm.wasmMemory`, the threaded build's), or the engine cannot compile
 * or link the module (no WebAssembly SIMD). The build matching the memory is
 * used: a plain memory import, or a shared one for the threaded build.
 * Instantiated once per heap and module (synchronously: the modules are a
 * few KB, under browsers' limit for synchronous compilation); a failure is
 * remembered.
 */
export function simdModuleOn<Exports>(backend: tf.KernelBackend, source: SimdModuleSource): SimdHeap<Exports> | null {
  if (simdDisabled(source.name)) return null;
  const internals = backend as unknown as WasmBackendInternals;
  const { getMemoryOffset, makeOutput } = internals;
  if (typeof getMemoryOffset !== 'function' || typeof makeOutput !== 'function') return null;
  const memory = internals.wasm?.asm?.memory ?? internals.wasm?.wasmMemory;
  if (!webAssembly || !(memory instanceof webAssembly.Memory)) return null;
  let modules = instances.get(memory);
  if (!modules) instances.set(memory, (modules = new Map()));
  let exports = modules.get(source.name);
  if (exports === undefined) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    try {
      const module = new webAssembly.Module(decode(shared ? source.shared : source.plain));
      exports = new webAssembly.Instance(module, { env: { memory } }).exports;
    } catch {
      exports = null;
    }
    modules.set(source.name, exports);
  }
  if (exports === null) return null;
  return {
    exports: exports as Exports,
    memory,
    makeOutput: (shape) => makeOutput.call(backend, shape, 'float32'),
    offset: (t) => getMemoryOffset.call(backend, t.dataId),
  };
}
