import { ArabozaError, ConfigError, FileError } from './errors.js';

/*
 * files.ts for browser bundles (package.json `browser` field): a page has no
 * file system, so every function that would touch one fails with a
 * ConfigError naming the call and the in-memory alternative; interrupt
 * cleanups have no process to outlive and are never run.
 */

/** Why a file operation cannot run here, and what to use instead. */
function noFiles(who: string): never {
  throw new ConfigError(
    `${who}: files and folders need Node (@araboza/core's Node build); in a browser save and load models with saveModelToBytes/saveModelToBlobs and loadModelFromBytes, and follow training through callbacks`,
  );
}

/** A browser page has no process exit to clean up after: `cleanup` is never run; the returned function forgets it. */
export function onInterrupt(cleanup: () => void): () => void {
  void cleanup;
  return () => undefined;
}

/** Wraps a non-araboza error in a FileError naming `who` and `path`; araboza's own errors pass through. */
export function fileError(err: unknown, who: string, path: string, action: string): ArabozaError {
  if (err instanceof ArabozaError) return err;
  return new FileError(`${who}: cannot ${action} '${path}': ${String((err as Error)?.message ?? err)}`);
}

/** Not available in a browser. @throws ConfigError */
export async function readTextFile(path: string): Promise<string> {
  noFiles(`readFile(${path})`);
}

/** Not available in a browser. @throws ConfigError */
export async function resolveWriteTarget(path: string, who: string): Promise<{ target: string; mode: number | null }> {
  noFiles(`${who} (${path})`);
}

/** Not available in a browser. @throws ConfigError */
export async function stageFile(path: string, data: Uint8Array | string, who: string): Promise<never> {
  void data;
  noFiles(`${who} (${path})`);
}

/** Not available in a browser. @throws ConfigError */
export function syncFolder(dir: string): void {
  noFiles(`sync(${dir})`);
}

/** Not available in a browser. @throws ConfigError */
export async function writeFilesAtomic(files: readonly { path: string; data: Uint8Array | string }[], who: string): Promise<void> {
  noFiles(`${who} (${files.map((f) => f.path).join(', ')})`);
}

/** Not available in a browser. @throws ConfigError */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  void data;
  noFiles(`writeFileAtomic(${path})`);
}

/** Not available in a browser. @throws ConfigError */
export async function checkFileTarget(path: string, who: string, createParents = false): Promise<void> {
  void createParents;
  noFiles(`${who} (${path})`);
}

/** Not available in a browser. @throws ConfigError */
export async function checkFolderTarget(dir: string, who: string): Promise<void> {
  noFiles(`${who} (${dir})`);
}

/** Not available in a browser. @throws ConfigError */
export async function statRegularFile(path: string, who: string): Promise<never> {
  noFiles(`${who} (${path})`);
}
