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

/** What the Node version unrefs; unused here. */
export interface PthreadPool {
  readonly runningWorkers: readonly { unref(): void }[];
  readonly unusedWorkers: readonly { unref(): void }[];
}

/**
 * In a browser tfjs itself starts its threaded wasm binary when the page is
 * cross-origin isolated (and then picks the thread count): the `threads`
 * option is for Node. @throws BackendError always.
 */
export function startThreadedWasm(threads: number): Promise<boolean> {
  throw new BackendError(
    `tfjsBackend: threads: ${threads} is for Node; in a browser tfjs runs its threaded wasm binary by itself when the page is cross-origin isolated`,
  );
}
