import { randomBytes } from 'node:crypto';
import { closeSync, openSync, fsyncSync, rmSync } from 'node:fs';
import { lstat, open, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Stats } from 'node:fs';
import { onExit } from 'signal-exit';
import { ArabozaError, FileError } from './errors.js';

/**
 * Cleanups that must run however the process ends (normal exit, `process.exit`,
 * SIGINT, SIGTERM, SIGHUP): temporary files of a write in progress, the
 * terminal state a progress bar changed. Each runs at most once.
 */
const cleanups = new Set<() => void>();
let unloadExitHook: (() => void) | null = null;

/**
 * Registers `cleanup` to run synchronously if the process ends before the
 * returned function is called; calling it unregisters `cleanup` (without
 * running it). signal-exit re-raises the signal afterwards unless the
 * application handles it, so the exit status stays what it would have been.
 */
export function onInterrupt(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  unloadExitHook ??= onExit(() => {
    for (const c of [...cleanups]) {
      cleanups.delete(c);
      try {
        c();
      } catch {
        // The process is ending: one failed cleanup must not stop the others.
      }
    }
  });
  return () => {
    cleanups.delete(cleanup);
    // Without pending cleanups, leave the process's signal handling exactly as the application set it.
    if (cleanups.size === 0 && unloadExitHook) {
      unloadExitHook();
      unloadExitHook = null;
    }
  };
}

function describeKind(s: Stats): string {
  if (s.isFile()) return 'a file';
  if (s.isDirectory()) return 'a folder';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

function fsMessage(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}: ${e.message}` : String((err as Error)?.message ?? err);
}

/** Reads a text file (UTF-8): the one file read callbacks need, kept here so browser bundles swap it with the rest of this module. */
export async function readTextFile(path: string): Promise<string> {
  return readFile(path, 'utf8');
}

/** Turns a Node file-system error into a FileError naming `who` and `path`; araboza's own errors pass through. */
export function fileError(err: unknown, who: string, path: string, action: string): ArabozaError {
  if (err instanceof ArabozaError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  const why =
    code === 'ENOENT'
      ? 'it or a parent folder does not exist'
      : code === 'EISDIR'
        ? 'it is a folder'
        : code === 'ENOTDIR'
          ? 'a parent of it is not a folder'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : code === 'ENOSPC'
              ? 'the disk is full'
              : fsMessage(err);
  return new FileError(`${who}: cannot ${action} ${path}: ${why}`);
}

/**
 * Where an atomic write to `path` really goes: `path` itself when it is a
 * regular file or does not exist yet (its folder must exist), or the file a
 * symbolic link points to. The link is followed rather than replaced, as
 * `writeFile` would, so a link into another folder keeps working; the
 * replacement then happens beside the real file.
 * @throws FileError for a folder, device, FIFO or socket, a dangling link or
 * a missing parent folder.
 */
export async function resolveWriteTarget(path: string, who: string): Promise<{ target: string; mode: number | null }> {
  if (typeof path !== 'string' || path === '') throw new FileError(`${who}: the path must be a non-empty string, got ${JSON.stringify(path)}`);
  let info: Stats | null;
  try {
    info = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(err, who, path, 'write');
    info = null;
  }
  let target = resolve(path);
  if (info?.isSymbolicLink()) {
    try {
      target = await realpath(path);
      info = await stat(target);
    } catch {
      throw new FileError(`${who}: cannot write ${path}: it is a symbolic link to a missing file`);
    }
  }
  if (info && !info.isFile()) throw new FileError(`${who}: cannot write ${path}: it is ${describeKind(info)}, not a regular file`);
  if (!info) {
    const parent = dirname(target);
    let p: Stats;
    try {
      p = await stat(parent);
    } catch (err) {
      throw fileError(err, who, parent, 'write into folder');
    }
    if (!p.isDirectory()) throw new FileError(`${who}: cannot write ${path}: ${parent} is not a folder`);
  }
  return { target, mode: info ? info.mode & 0o7777 : null };
}

/** A file written under a temporary name, not yet in place. */
export interface StagedFile {
  /** The final path (a symbolic link's target when the path was a link). */
  readonly target: string;
  /** Renames the temporary file onto the target. */
  commit(): Promise<void>;
  /** Removes the temporary file (a no-op after `commit`). */
  discard(): Promise<void>;
}

/**
 * Writes `data` beside the file at `path` under a temporary name and flushes
 * it to disk; `commit` then renames it into place. The temporary file is
 * removed on failure, on `discard`, and if the process is interrupted first.
 * @throws FileError when `path` is not a regular file (see {@link resolveWriteTarget}) or the write fails.
 */
export async function stageFile(path: string, data: Uint8Array | string, who: string): Promise<StagedFile> {
  const { target, mode } = await resolveWriteTarget(path, who);
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const forget = onInterrupt(() => rmSync(tmp, { force: true }));
  let state: 'staged' | 'committed' | 'discarded' = 'staged';
  const discard = async () => {
    if (state !== 'staged') return;
    state = 'discarded';
    await rm(tmp, { force: true });
    forget();
  };
  try {
    const fh = await open(tmp, 'wx', mode ?? 0o666);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    await discard();
    throw fileError(err, who, path, 'write');
  }
  return {
    target,
    commit: async () => {
      if (state !== 'staged') throw new FileError(`${who}: ${path} was already ${state}`);
      try {
        await rename(tmp, target);
      } catch (err) {
        await discard();
        throw fileError(err, who, path, 'write');
      }
      state = 'committed';
      forget();
    },
    discard,
  };
}

/** Flushes a folder's entries (the renames into it) to disk where the platform allows it. */
export function syncFolder(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms and file systems cannot fsync a folder; the data files themselves are synced.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/**
 * Writes several files as one unit as far as a file system allows: every
 * file is written and flushed under a temporary name first, then all are
 * renamed into place in order. A failure before the renames leaves every
 * target as it was and no temporary file.
 */
export async function writeFilesAtomic(files: readonly { path: string; data: Uint8Array | string }[], who: string): Promise<void> {
  const staged: StagedFile[] = [];
  try {
    for (const f of files) staged.push(await stageFile(f.path, f.data, who));
    for (const s of staged) await s.commit();
  } catch (err) {
    await Promise.all(staged.map((s) => s.discard()));
    throw err;
  }
  for (const folder of new Set(staged.map((s) => dirname(s.target)))) syncFolder(folder);
}

/**
 * Writes `data` to `path` through a temporary file in the same folder, then
 * renames it: readers see the old content or the new, never a part. A
 * symbolic link is followed (the file it points to is replaced, the link
 * stays); a folder, device, FIFO or socket is refused.
 * @throws FileError naming the path when it cannot be written.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await writeFilesAtomic([{ path, data }], 'writeFileAtomic');
}

/**
 * Checks, before any long work, that `path` can later be written as a file:
 * a regular file, a link to one, or a new name (its folder is created when
 * `createParents`, so only an existing non-folder on the way is refused).
 * @throws FileError naming `who` and the path.
 */
export async function checkFileTarget(path: string, who: string, createParents = false): Promise<void> {
  if (!createParents) {
    await resolveWriteTarget(path, who);
    return;
  }
  let info: Stats | null = null;
  try {
    info = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(err, who, path, 'write');
  }
  if (info && !info.isFile()) throw new FileError(`${who}: cannot write ${path}: it is ${describeKind(info)}, not a regular file`);
  if (!info) await checkFolderTarget(dirname(resolve(path)), who);
}

/**
 * Checks that `dir` is a folder or can be created as one (no file, device or
 * other non-folder at it or at any ancestor).
 * @throws FileError naming `who` and the path.
 */
export async function checkFolderTarget(dir: string, who: string): Promise<void> {
  if (typeof dir !== 'string' || dir === '') throw new FileError(`${who}: the folder must be a non-empty string, got ${JSON.stringify(dir)}`);
  let current = resolve(dir);
  for (;;) {
    try {
      const info = await stat(current);
      if (!info.isDirectory()) throw new FileError(`${who}: cannot use ${dir} as a folder: ${current} is ${describeKind(info)}`);
      return;
    } catch (err) {
      if (err instanceof FileError) throw err;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(err, who, current, 'use');
    }
    const parent = dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

/**
 * Opens `path` for reading only when it is a regular file, so a FIFO or
 * device never blocks a read and a folder gives a clear error.
 * @throws FileError naming `who` and the path.
 */
export async function statRegularFile(path: string, who: string): Promise<Stats> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (err) {
    throw fileError(err, who, path, 'read');
  }
  if (!info.isFile()) throw new FileError(`${who}: cannot read ${path}: it is ${describeKind(info)}, not a regular file`);
  return info;
}
