import { createRequire } from 'node:module';
import path from 'node:path';

/*
 * What the tfjs backend finds on disk in Node: the installed wasm binaries and
 * whether the user installed tfjs-node. Browser bundles get
 * runtime-paths.browser.ts instead (package.json `browser` field).
 */

const require = createRequire(import.meta.url);

/** The folder holding the installed wasm binaries, as a file path with a trailing separator. */
export function wasmBinaryFolder(): string {
  const pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return path.join(path.dirname(pkg), 'dist') + path.sep;
}

/** Whether `@tensorflow/tfjs-node` can be imported from here. */
export function tfjsNodeInstalled(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}
