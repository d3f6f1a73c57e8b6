import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic, type Tensor } from '@araboza/core';
import { PNG } from 'pngjs';

/**
 * Draws grayscale images `[n, h, w, 1]` (values in [0, 1]) as a grid of
 * `rows` × `columns`, each pixel scaled up `scale` times, and writes it as a
 * PNG atomically. Row r holds images r·columns … r·columns + columns − 1.
 */
export async function writeImageGrid(images: Tensor, rows: number, columns: number, path: string, scale = 3): Promise<void> {
  const [n, h, w, c] = images.shape;
  if (images.shape.length !== 4 || c !== 1) throw new Error(`writeImageGrid: expected [n, h, w, 1] images, got [${images.shape.join(', ')}]`);
  if (n < rows * columns) throw new Error(`writeImageGrid: a ${rows}×${columns} grid needs ${rows * columns} images, got ${n}`);
  const png = new PNG({ width: columns * w * scale, height: rows * h * scale, colorType: 0 });
  for (let r = 0; r < rows; r++)
    for (let col = 0; col < columns; col++) {
      const base = (r * columns + col) * h * w;
      for (let y = 0; y < h * scale; y++)
        for (let x = 0; x < w * scale; x++) {
          const v = images.data[base + Math.floor(y / scale) * w + Math.floor(x / scale)];
          const g = Math.round(Math.min(1, Math.max(0, v)) * 255);
          const o = ((r * h * scale + y) * columns * w * scale + col * w * scale + x) * 4;
          png.data[o] = g;
          png.data[o + 1] = g;
          png.data[o + 2] = g;
          png.data[o + 3] = 255;
        }
    }
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, PNG.sync.write(png, { colorType: 0 }));
}
