import { createRequire } from 'node:module';
import type { CpuInfo } from 'node:os';
import path from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/*
 * What the tfjs backend finds on disk in Node: the installed wasm binaries,
 * whether the user installed tfjs-node, and how the threaded wasm binary
 * starts under worker_threads. Browser bundles get
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

/** The part of emscripten's pthread pool (the threaded wasm module's `PThread`) that {@link startThreadedWasm} touches. */
export interface PthreadPool {
  readonly runningWorkers: readonly { unref(): void }[];
  readonly unusedWorkers: readonly { unref(): void }[];
}

/**
 * A `worker_threads` Worker that also accepts the `blob:` URL tfjs gives
 * emscripten for its pthread worker script (Node's Worker takes only paths
 * and file/data URLs): it runs that script's source, from the installed
 * package, as `eval` code, and maps the `blob:` main script the worker then
 * imports to the package's threaded module file.
 */
function pthreadWorkerClass(): typeof Worker {
  const wasmOut = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
  const mainScript = path.join(wasmOut, 'tfjs-backend-wasm-threaded-simd.js');
  const { wasmWorkerContents } = require(path.join(wasmOut, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  // tfjs escapes the newlines inside the source's string literals the same way before it makes its Blob.
  const source =
    wasmWorkerContents.replace(/\n/g, '\\n') +
    `;{const fs=require('fs');global.importScripts=(u)=>{(0,eval)(fs.readFileSync(String(u).startsWith('blob:')?${JSON.stringify(mainScript)}:u,'utf8'))}}`;
  return class PthreadWorker extends Worker {
    constructor(url: string | URL, options?: WorkerOptions) {
      if (typeof url === 'string' && url.startsWith('blob:')) super(source, { ...options, eval: true });
      else super(url, options);
    }
  };
}

/**
 * Starts tfjs's threaded wasm module under Node's `worker_threads` with
 * `threads` threads (tfjs 4.22 itself never picks it in Node, tfjs#3830).
 * While `start` (tfjs's setBackend, with the threads flag forced on) runs:
 *
 * - the emscripten module's `global.Worker = worker_threads.Worker` is
 *   replaced by {@link pthreadWorkerClass} (tfjs hands emscripten a `blob:` URL);
 * - `os.cpus()` reports `2·threads` processors: tfjs's C++ caps its thread
 *   pool at half the logical processors (it assumes two per core), which is
 *   one thread on a 2-core machine.
 *
 * Both are restored after; then every pthread worker is unref'd, so that
 * idle pool threads do not keep the process alive.
 */
export async function startThreadedWasm(threads: number, start: () => Promise<boolean>, pool: () => PthreadPool | undefined): Promise<boolean> {
  const os = require('node:os') as { cpus: () => CpuInfo[] };
  const cpus = os.cpus;
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  const Pthread = pthreadWorkerClass();
  let current: unknown = descriptor?.value;
  Object.defineProperty(globalThis, 'Worker', {
    configurable: true,
    get: () => current,
    set: (w: unknown) => (current = w === Worker ? Pthread : w),
  });
  os.cpus = () => {
    const all = cpus();
    return Array.from({ length: 2 * threads }, (_, i) => all[i % all.length]);
  };
  try {
    const started = await start();
    const p = pool();
    for (const w of [...(p?.runningWorkers ?? []), ...(p?.unusedWorkers ?? [])]) w.unref();
    return started;
  } finally {
    os.cpus = cpus;
    if (descriptor || current !== undefined) Object.defineProperty(globalThis, 'Worker', { configurable: true, writable: true, value: current });
    else delete (globalThis as { Worker?: unknown }).Worker;
  }
}
