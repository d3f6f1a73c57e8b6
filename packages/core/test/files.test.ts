import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkFileTarget, checkFolderTarget, FileError, mnistAutoencoder, writeFileAtomic } from '../src/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'araboza-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * A private character device with /dev/null's numbers, so that a regression
 * replaces this node, never the machine's own /dev/null (needs root, as the
 * issue's probe did).
 */
function nullDevice(): string {
  const path = join(dir, 'null');
  execFileSync('mknod', ['-m', '666', path, 'c', '1', '3']);
  return path;
}

async function errorOf(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(Error);
  return e as Error;
}

describe('writeFileAtomic refuses targets that are not regular files (issue 16, item 2)', () => {
  it('refuses a character device (a null device stays a device)', async () => {
    const device = nullDevice();
    const err = await errorOf(writeFileAtomic(device, 'png'));
    expect(err).toBeInstanceOf(FileError);
    expect(err.message).toMatch(/cannot write .*\/null: it is a character device, not a regular file/);
    expect((await stat(device)).isCharacterDevice()).toBe(true);
  });

  it('refuses a FIFO without blocking on it', async () => {
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const err = await errorOf(writeFileAtomic(fifo, 'x'));
    expect(err).toBeInstanceOf(FileError);
    expect(err.message).toMatch(/it is a FIFO \(named pipe\), not a regular file/);
    expect((await lstat(fifo)).isFIFO()).toBe(true);
  });

  it('refuses a folder and leaves it as it was', async () => {
    await mkdir(join(dir, 'out.png'));
    await writeFile(join(dir, 'out.png', 'keep'), 'k');
    const err = await errorOf(writeFileAtomic(join(dir, 'out.png'), 'x'));
    expect(err).toBeInstanceOf(FileError);
    expect(err.message).toMatch(/it is a folder, not a regular file/);
    expect(await readdir(join(dir, 'out.png'))).toEqual(['keep']);
  });

  it('a missing parent folder is a FileError, not a raw ENOENT', async () => {
    const err = await errorOf(writeFileAtomic(join(dir, 'no', 'such', 'file.png'), 'x'));
    expect(err).toBeInstanceOf(FileError);
    expect(err.message).toMatch(/cannot write into folder .*no\/such: it or a parent folder does not exist/);
  });

  it('follows a symbolic link: the linked file is replaced, the link stays', async () => {
    await mkdir(join(dir, 'real'));
    await writeFile(join(dir, 'real', 'a.png'), 'old');
    await symlink(join(dir, 'real', 'a.png'), join(dir, 'link.png'));
    await writeFileAtomic(join(dir, 'link.png'), 'new');
    expect((await lstat(join(dir, 'link.png'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(dir, 'link.png'))).toBe(join(dir, 'real', 'a.png'));
    expect(await readFile(join(dir, 'real', 'a.png'), 'utf8')).toBe('new');
    expect((await readdir(join(dir, 'real'))).sort()).toEqual(['a.png']);
  });

  it('refuses a dangling symbolic link', async () => {
    await symlink(join(dir, 'missing'), join(dir, 'link.png'));
    const err = await errorOf(writeFileAtomic(join(dir, 'link.png'), 'x'));
    expect(err).toBeInstanceOf(FileError);
    expect(err.message).toMatch(/symbolic link to a missing file/);
  });

  it('keeps the permissions of the file it replaces', async () => {
    const path = join(dir, 'a.txt');
    await writeFile(path, 'old', { mode: 0o600 });
    await writeFileAtomic(path, 'new');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });
});

describe('save refuses a target that is not a folder', () => {
  it('save to an existing file is a FileError and the file is untouched', async () => {
    const path = join(dir, 'model');
    await writeFile(path, 'notes');
    const err = await errorOf(mnistAutoencoder().save(path));
    expect(err).toBeInstanceOf(FileError);
    expect(err.message).toMatch(/cannot use .*model as a folder: .*model is a file/);
    expect(await readFile(path, 'utf8')).toBe('notes');
  });
});

describe('checkFileTarget and checkFolderTarget', () => {
  it('accept a new file under folders still to be created, refuse a device', async () => {
    await expect(checkFileTarget(join(dir, 'a', 'b', 'c.png'), 'cli --out', true)).resolves.toBeUndefined();
    await expect(checkFileTarget(nullDevice(), 'cli --out', true)).rejects.toThrow(/cli --out: cannot write .*\/null: it is a character device/);
  });

  it('refuse a folder whose ancestor is a file', async () => {
    await writeFile(join(dir, 'f'), 'x');
    await expect(checkFolderTarget(join(dir, 'f', 'sub'), 'cli --save')).rejects.toThrow(FileError);
  });
});
