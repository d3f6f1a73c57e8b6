import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { ConfigError, FormatError } from '@araboza/core';

/** The only IDX element type araboza reads: 0x08, unsigned byte (MNIST's). */
export const IDX_UBYTE = 0x08;

/** Names of the IDX element types, for error messages about foreign files. */
const IDX_TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

/** Options of {@link readIdx}. */
export interface ReadIdxOptions {
  /** Name used in error messages; defaults to the file's path (or `buffer` for bytes). */
  name?: string;
  /** Required rank (3 for an image file, magic 0x00000803; 1 for a label file, 0x00000801). */
  rank?: number;
  /** Required sizes of the axes after the first (e.g. `[28, 28]` for MNIST images). */
  itemShape?: readonly number[];
  /** Read only the first `limit` items (along the first axis); the file is still validated whole. */
  limit?: number;
  /** Validate the header and the file size but read no item (the result has 0 items; `fileCount` says how many the file holds). */
  headerOnly?: boolean;
}

/** A decoded IDX array of unsigned bytes. */
export interface IdxArray {
  /** Axis sizes; `shape[0]` is the number of items read (after `limit`). */
  shape: number[];
  /** Number of items the file holds (before `limit`). */
  fileCount: number;
  /** Row-major values. */
  data: Uint8Array;
}

/** A random-access reader over a file or a byte array. */
interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: (offset, length) => bytes.subarray(offset, Math.min(offset + length, bytes.length)),
    close: () => undefined,
  };
}

function kindOf(s: Stats): string {
  if (s.isDirectory()) return 'a folder';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

function fileSource(path: string): ByteSource {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait forever for a writer; a regular file ignores the flag.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FormatError(`${path}: cannot open IDX file (${code ?? String(err)})`);
  }
  const info = fstatSync(fd);
  if (!info.isFile()) {
    closeSync(fd);
    throw new FormatError(`${path}: cannot read IDX file: it is ${kindOf(info)}, not a regular file`);
  }
  const size = info.size;
  return {
    size,
    read(offset, length) {
      const n = Math.max(0, Math.min(length, size - offset));
      const out = new Uint8Array(n);
      let done = 0;
      while (done < n) {
        const got = readSync(fd, out, done, n - done, offset + done);
        if (got === 0) break;
        done += got;
      }
      return out.subarray(0, done);
    },
    close: () => closeSync(fd),
  };
}

function hex32(bytes: Uint8Array): string {
  return `0x${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Reads an IDX file (the format of the MNIST files): a 4-byte magic number
 * `0x0000 TT RR` (TT the element type, RR the rank), RR big-endian 32-bit axis
 * sizes, then the row-major values.
 *
 * Everything is checked before values are decoded: the magic number, the
 * element type (only 0x08, unsigned byte), the rank and item shape when
 * given, and that the file's size is exactly what the header declares (a
 * truncated or oversized file is rejected). With `limit`, only the first
 * `limit` items are read from disk.
 *
 * @param source - a file path, or the file's bytes.
 * @throws FormatError naming the file and what is wrong with it.
 * @throws ConfigError for a `limit` that is not a positive integer or exceeds the file's item count.
 */
export function readIdx(source: string | Uint8Array, options: ReadIdxOptions = {}): IdxArray {
  const label = options.name ?? (typeof source === 'string' ? source : 'buffer');
  const { limit } = options;
  if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0)) {
    throw new ConfigError(`${label}: limit must be a positive integer, got ${JSON.stringify(limit)}`);
  }
  const src = typeof source === 'string' ? fileSource(source) : bufferSource(source);
  try {
    const magic = src.read(0, 4);
    if (magic.length < 4) throw new FormatError(`${label}: not an IDX file: ${src.size} bytes, shorter than the 4-byte magic number`);
    if (magic[0] !== 0 || magic[1] !== 0) {
      throw new FormatError(`${label}: not an IDX file: magic number ${hex32(magic)} does not start with 0x0000`);
    }
    const type = magic[2];
    const rank = magic[3];
    if (type !== IDX_UBYTE) {
      const typeName = IDX_TYPE_NAMES[type] ?? 'unknown type';
      throw new FormatError(
        `${label}: IDX element type 0x${type.toString(16).padStart(2, '0')} (${typeName}) is not supported; expected 0x08 (unsigned byte), magic ${hex32(magic)}`,
      );
    }
    if (options.rank !== undefined && rank !== options.rank) {
      const expected = `0x000008${options.rank.toString(16).padStart(2, '0')}`;
      throw new FormatError(`${label}: magic number ${hex32(magic)} declares rank ${rank}, expected ${expected} (rank ${options.rank})`);
    }
    if (rank === 0) throw new FormatError(`${label}: IDX header declares rank 0; expected at least one axis`);
    const headerSize = 4 + 4 * rank;
    const dimBytes = src.read(4, 4 * rank);
    if (dimBytes.length < 4 * rank) {
      throw new FormatError(`${label}: truncated header: rank ${rank} needs ${headerSize} header bytes, the file has ${src.size}`);
    }
    const view = new DataView(dimBytes.buffer, dimBytes.byteOffset, dimBytes.byteLength);
    const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 * i, false));
    const itemShape = shape.slice(1);
    if (options.itemShape && (options.itemShape.length !== itemShape.length || options.itemShape.some((d, i) => d !== itemShape[i]))) {
      throw new FormatError(
        `${label}: items have shape [${itemShape.join(', ')}], expected [${options.itemShape.join(', ')}] (header dimensions [${shape.join(', ')}])`,
      );
    }
    const itemSize = itemShape.reduce((a, b) => a * b, 1);
    const fileCount = shape[0];
    const expectedSize = headerSize + fileCount * itemSize;
    if (src.size < expectedSize) {
      throw new FormatError(`${label}: truncated: header declares dimensions [${shape.join(', ')}] (${expectedSize} bytes), the file has ${src.size} bytes`);
    }
    if (src.size > expectedSize) {
      throw new FormatError(
        `${label}: ${src.size - expectedSize} unexpected bytes after the data: header declares dimensions [${shape.join(', ')}] (${expectedSize} bytes), the file has ${src.size} bytes`,
      );
    }
    if (limit !== undefined && limit > fileCount && !options.headerOnly) {
      throw new ConfigError(`${label}: limit ${limit} exceeds the ${fileCount} items in the file`);
    }
    const count = options.headerOnly ? 0 : (limit ?? fileCount);
    const bytes = src.read(headerSize, count * itemSize);
    // Bytes read from a file are already a fresh array; a caller's buffer is copied so the result does not alias it.
    return { shape: [count, ...itemShape], fileCount, data: typeof source === 'string' ? bytes : bytes.slice() };
  } finally {
    src.close();
  }
}
