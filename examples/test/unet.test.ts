import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel, tensor } from '@araboza/core';
import { addNoise } from '../src/unet.js';
import { runExample } from './run-example.js';

const dir = await mkdtemp(join(tmpdir(), 'araboza-unet-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.each(['onnxruntime', 'tfjs'])('U-Net example on %s (short run)', (backend) => {
  it('trains the 14,625-parameter U-Net, reports the test loss, writes the 3×10 PNG and saves the model', async () => {
    const png = join(dir, `unet-${backend}.png`);
    const save = join(dir, `model-${backend}`);
    const { json, stdout } = await runExample(
      ['unet', '--backend', backend, '--limit', '512', '--batch-size', '128', '--out', png, '--save', save, '--quiet'],
      300_000,
    );
    expect(stdout).toContain('Total params: 14,625');
    expect(stdout).toContain('Connected to');
    expect(json).toMatchObject({ example: 'unet', params: 14625, trainableParams: 14625, epochs: 1, png });
    // An untrained sigmoid output gives BCE ≈ 0.69; 4 Adam steps must already move it down.
    expect(json.testBce as number).toBeLessThan(0.69);
    const image = PNG.sync.read(await readFile(png));
    expect([image.width, image.height]).toEqual([10 * 28 * 3, 3 * 28 * 3]);
    const back = await loadModel(save);
    expect(back.countParams()).toBe(14625);
    expect(back.graph.nodes.filter((n) => n.kind === 'concatenate')).toHaveLength(2);
  }, 300_000);
});

describe('U-Net noise', () => {
  it('is seeded, clipped to [0, 1] and differs between seeds', () => {
    const clean = tensor(new Float32Array(1000).fill(0.5), [1000]);
    const a = addNoise(clean, 1);
    expect(addNoise(clean, 1).data).toEqual(a.data);
    expect(addNoise(clean, 2).data).not.toEqual(a.data);
    expect(Math.min(...a.data)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a.data)).toBeLessThanOrEqual(1);
    expect(a.data.filter((v) => v === 0 || v === 1).length).toBeGreaterThan(0);
  });
});
