import { maxPooling2d, sequential, ShapeError, upSampling2d, averagePooling2d, randomUniform } from '@araboza/core';
import { tfjsBackend } from '@araboza/tfjs';
import { describe, expect, it } from 'vitest';

/** Builds the model, or returns the error; how long it took. */
function timedBuild(build: () => unknown): { error: unknown; ms: number } {
  const started = performance.now();
  try {
    build();
    return { error: null, ms: performance.now() - started };
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
}

describe('per-layer work is capped before any engine allocates it (issue 16, item 12)', () => {
  it.each([1e4, 1e6, 1e9])("maxPooling2d poolSize %d with 'same' padding is a ShapeError naming the layer, at once", (poolSize) => {
    const { error, ms } = timedBuild(() => sequential({ inputShape: [28, 28, 1], layers: [maxPooling2d({ poolSize, padding: 'same', name: 'huge_pool' })] }));
    expect(error).toBeInstanceOf(ShapeError);
    expect((error as Error).message).toMatch(/^huge_pool: poolSize \[\d+, \d+\] with 'same' padding pads input \(None, 28, 28, 1\)/);
    expect(ms).toBeLessThan(100);
  });

  it('upSampling2d size 3e4 is a ShapeError naming the layer instead of a 14 GB allocation', () => {
    const { error, ms } = timedBuild(() => sequential({ inputShape: [2, 2, 1], layers: [upSampling2d({ size: 30000, name: 'huge_up' })] }));
    expect(error).toBeInstanceOf(ShapeError);
    expect((error as Error).message).toMatch(/^huge_up: output \(None, 60000, 60000, 1\) would hold 3600000000 values per sample, more than the 268435456/);
    expect(ms).toBeLessThan(100);
  });

  it('a window larger than its input, within the allowance, still runs on tfjs-wasm like a global pool', async () => {
    const x = randomUniform([2, 5, 5, 1], { seed: 3 });
    const backend = tfjsBackend({ engine: 'wasm' });
    const big = await maxPooling2d({ poolSize: 8, padding: 'same' }).apply(x, { backend });
    const exact = await maxPooling2d({ poolSize: 5, padding: 'valid' }).apply(x, { backend });
    expect(big.shape).toEqual([2, 1, 1, 1]);
    expect(big.data).toEqual(exact.data);
    const avg = await averagePooling2d({ poolSize: 6, padding: 'same' }).apply(x, { backend });
    expect(avg.shape).toEqual([2, 1, 1, 1]);
  });

  it('eager apply on tfjs-wasm is refused the same way, before the engine sees it', async () => {
    const x = randomUniform([1, 28, 28, 1], { seed: 4 });
    await expect(maxPooling2d({ poolSize: 1e5, padding: 'same', name: 'p' }).apply(x, { backend: tfjsBackend({ engine: 'wasm' }) })).rejects.toThrow(
      ShapeError,
    );
  });
});
