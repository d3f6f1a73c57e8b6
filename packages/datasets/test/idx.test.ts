import { describe, expect, it } from 'vitest';
import { ConfigError, FormatError } from '@araboza/core';
import { readIdx } from '../src/index.js';
import { idxBytes, rampBytes } from './helpers.js';

describe('readIdx', () => {
  it('decodes the dimensions and values of a rank-3 file from bytes', () => {
    const bytes = idxBytes([2, 3, 4], rampBytes(24));
    const out = readIdx(bytes);
    expect(out.shape).toEqual([2, 3, 4]);
    expect(out.fileCount).toBe(2);
    expect(Array.from(out.data)).toEqual(Array.from(rampBytes(24)));
  });

  it('returns a copy that does not alias the caller’s bytes', () => {
    const bytes = idxBytes([2], Uint8Array.of(7, 8));
    const out = readIdx(bytes);
    bytes[8] = 99;
    expect(Array.from(out.data)).toEqual([7, 8]);
  });

  it('with limit, returns only the first items but still validates the whole size', () => {
    const bytes = idxBytes([5, 2], rampBytes(10));
    const out = readIdx(bytes, { limit: 2 });
    expect(out.shape).toEqual([2, 2]);
    expect(out.fileCount).toBe(5);
    expect(Array.from(out.data)).toEqual([0, 1, 2, 3]);
    expect(() => readIdx(bytes.subarray(0, bytes.length - 1), { limit: 2 })).toThrow(/truncated/);
  });

  it('rejects a limit above the item count', () => {
    expect(() => readIdx(idxBytes([2], Uint8Array.of(1, 2)), { limit: 3, name: 'labels.idx' })).toThrow(ConfigError);
  });

  it('uses the given name in errors', () => {
    expect(() => readIdx(Uint8Array.of(1, 2, 3, 4), { name: 'my-file.idx' })).toThrow(/^my-file\.idx: not an IDX file/);
  });

  it('calls a byte array "buffer" in errors when no name is given', () => {
    expect(() => readIdx(idxBytes([2], Uint8Array.of(1)))).toThrow(FormatError);
    expect(() => readIdx(idxBytes([2], Uint8Array.of(1)))).toThrow(/^buffer: truncated/);
  });

  it('rejects a header declaring rank 0', () => {
    expect(() => readIdx(Uint8Array.of(0, 0, 8, 0))).toThrow(/rank 0/);
  });
});
