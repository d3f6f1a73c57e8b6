import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '@araboza/core';
import { runExample } from './run-example.js';

const dir = await mkdtemp(join(tmpdir(), 'araboza-ae-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('autoencoder example (short run)', () => {
  it('trains, reports the test loss, writes the 2×10 PNG and saves the model', async () => {
    const png = join(dir, 'ae.png');
    const save = join(dir, 'model');
    const { json, stdout } = await runExample(
      ['autoencoder', '--backend', 'onnxruntime', '--epochs', '1', '--limit', '2048', '--batch-size', '128', '--out', png, '--save', save],
      300_000,
    );
    expect(stdout).toContain('Total params: 3,369');
    expect(json).toMatchObject({ example: 'autoencoder', params: 3369, epochs: 1, optimizer: 'adam', png });
    const history = json.history as { loss: number[]; valLoss: number[] };
    expect(history.loss).toHaveLength(1);
    expect(history.valLoss).toHaveLength(1);
    // An untrained sigmoid output gives BCE ≈ 0.69; 16 Adam steps must already move it down.
    expect(json.testBce as number).toBeLessThan(0.69);
    const image = PNG.sync.read(await readFile(png));
    expect([image.width, image.height]).toEqual([10 * 28 * 3, 2 * 28 * 3]);
    const back = await loadModel(save);
    expect(back.countParams()).toBe(3369);
  }, 300_000);

  it('refuses a zero epoch count before loading anything', async () => {
    await expect(runExample(['autoencoder', '--epochs', '0'])).rejects.toThrow(/must be a positive integer/);
  });
});
