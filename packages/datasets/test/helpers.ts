import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Bytes of an IDX file: magic 0x0000 TT RR, big-endian axis sizes, then `body`. */
export function idxBytes(dims: readonly number[], body: Uint8Array, type = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + body.length);
  out[2] = type;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(body, 4 + 4 * dims.length);
  return out;
}

/** Deterministic bytes 0..255 repeating, so decoded values are checkable. */
export function rampBytes(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => i % 256);
}

/** A temporary folder removed by the returned cleanup function. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'araboza-datasets-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes an MNIST-like pair of IDX files (`prefix`-images/labels) with `n` images of `size`×`size`. */
export function writeMnistPair(
  dir: string,
  prefix: 'train' | 't10k',
  opts: { images?: Uint8Array; labels?: Uint8Array; n?: number; size?: number } = {},
): { images: string; labels: string } {
  const n = opts.n ?? 3;
  const size = opts.size ?? 28;
  const images = join(dir, `${prefix}-images-idx3-ubyte`);
  const labels = join(dir, `${prefix}-labels-idx1-ubyte`);
  writeFileSync(images, opts.images ?? idxBytes([n, size, size], rampBytes(n * size * size)));
  writeFileSync(
    labels,
    opts.labels ??
      idxBytes(
        [n],
        Uint8Array.from({ length: n }, (_, i) => i % 10),
      ),
  );
  return { images, labels };
}
