import { BackendError } from '@araboza/core';

/*
 * runtime-paths.ts for browser bundles (package.json `browser` field): a
 * page has no installed folder to read the wasm binaries from, so it says
 * where it serves them (setWasmBinaryFolder); tfjs-node never runs there.
 */

/** Where the page serves tfjs's wasm binaries (set by `setWasmBinaryFolder`). @throws BackendError when it was not set. */
export function wasmBinaryFolder(): string {
  throw new BackendError(
    "tfjs engine wasm in a browser: call setWasmBinaryFolder(url) first with where the page serves @tensorflow/tfjs-backend-wasm's dist/*.wasm files (a URL prefix ending in '/', or a map from file name to URL)",
  );
}

/** tfjs-node never runs in a browser: false. */
export function tfjsNodeInstalled(): boolean {
  return false;
}
