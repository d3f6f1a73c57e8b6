import { BackendError } from '@araboza/core';
import { wasmBinaryFolder } from './runtime-paths.js';

/** Where tfjs's wasm binaries are: a URL or folder prefix ending in `/`, or a map from binary file name to its URL. */
export type WasmLocation = string | Readonly<Record<string, string>>;

let chosen: WasmLocation | null = null;

/**
 * Tells the wasm engine where its binaries (`tfjs-backend-wasm.wasm`,
 * `-simd.wasm`, `-threaded-simd.wasm` of `@tensorflow/tfjs-backend-wasm`'s
 * `dist`) are served: needed in a browser, optional in Node (default: the
 * installed package). Takes effect when the engine first starts.
 * @throws BackendError for a location that is neither a prefix ending in `/` nor a map of strings.
 */
export function setWasmBinaryFolder(location: WasmLocation): void {
  const ok =
    typeof location === 'string'
      ? location.endsWith('/')
      : typeof location === 'object' && location !== null && Object.values(location).every((v) => typeof v === 'string');
  if (!ok) throw new BackendError(`setWasmBinaryFolder: expected a prefix ending in '/' or a map from file name to URL, got ${JSON.stringify(location)}`);
  chosen = location;
}

/** The location the wasm engine starts from: the one set, else the installed package's folder (Node). */
export function wasmLocation(): WasmLocation {
  return chosen ?? wasmBinaryFolder();
}
