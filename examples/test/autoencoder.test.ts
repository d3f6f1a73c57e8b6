import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
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

  it('refuses an existing file as --save before loading MNIST or training (issue 16, item 4)', async () => {
    const file = join(dir, 'notes.txt');
    await writeFile(file, 'keep');
    const err = (await runExample(['autoencoder', '--save', file, '--out', join(dir, 'x.png')]).catch((e: unknown) => e)) as Error & { stdout: string };
    expect(err.message).toMatch(/--save: cannot use .*notes.txt as a folder: .*notes.txt is a file/);
    expect(err.stdout).not.toContain('MNIST');
    expect(await readFile(file, 'utf8')).toBe('keep');
  });

  it('refuses a character device or a folder as --out before loading MNIST (issue 16, items 2 and 4)', async () => {
    // A private node with /dev/null's numbers: a regression replaces it, not the machine's /dev/null.
    const device = join(dir, 'null');
    execFileSync('mknod', ['-m', '666', device, 'c', '1', '3']);
    await expect(runExample(['autoencoder', '--out', device])).rejects.toThrow(/--out: cannot write .*\/null: it is a character device, not a regular file/);
    await expect(runExample(['autoencoder', '--out', dir])).rejects.toThrow(/--out: cannot write .*: it is a folder, not a regular file/);
    expect((await stat(device)).isCharacterDevice()).toBe(true);
  });

  it('refuses --learning-rate 1e39 (Infinity in float32) instead of training to a NaN test loss (issue 16, item 5)', async () => {
    await expect(runExample(['autoencoder', '--learning-rate', '1e39', '--out', join(dir, 'y.png')])).rejects.toThrow(
      /learningRate 1e\+39 is beyond float32's range/,
    );
  });

  it('refuses a non-integer --seed and an --engine the chosen backend ignores (issue 16, item 14)', async () => {
    await expect(runExample(['autoencoder', '--seed', 'abc'])).rejects.toThrow(/option '--seed <n>' argument 'abc' is invalid. must be an integer/);
    await expect(runExample(['autoencoder', '--seed', '1.9'])).rejects.toThrow(/must be an integer/);
    await expect(runExample(['autoencoder', '--backend', 'onnxruntime', '--engine', 'wasm'])).rejects.toThrow(/--engine wasm applies to --backend tfjs only/);
    await expect(runExample(['autoencoder', '--backend', 'tfjs', '--device', 'cuda'])).rejects.toThrow(/--device cuda applies to --backend onnxruntime only/);
  });
});
