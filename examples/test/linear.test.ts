import { describe, expect, it } from 'vitest';
import { runExample } from './run-example.js';

describe.each(['onnxruntime', 'tfjs'])('linear examples on %s', { timeout: 60_000 }, (backend) => {
  it('linear prints the two steps and their kernels', async () => {
    const { json, stdout } = await runExample(['linear', '--backend', backend]);
    expect(json).toEqual({
      example: 'linear',
      backend: expect.any(String),
      steps: [
        { input: [64, 4, 2], output: [64, 4], kernel: [2, 1] },
        { input: [64, 4], output: [64], kernel: [4, 1] },
      ],
      totalParams: 6,
    });
    expect(String(json.backend)).toContain(backend);
    expect(stdout).toContain('step 1: input [64, 4, 2] -> dense(1) -> [64, 4, 1] -> squeeze -> [64, 4]; kernel [2, 1], 2 parameters');
  });

  it('linear-deep has three steps and 13 parameters', async () => {
    const { json } = await runExample(['linear-deep', '--backend', backend]);
    expect(json.steps).toEqual([
      { input: [64, 4, 2], output: [64, 4, 3], kernel: [2, 3] },
      { input: [64, 4, 3], output: [64, 4], kernel: [3, 1] },
      { input: [64, 4], output: [64], kernel: [4, 1] },
    ]);
    expect(json.totalParams).toBe(13);
  });
});

describe('command line', { timeout: 60_000 }, () => {
  it('rejects an unknown example by name', async () => {
    await expect(runExample(['lenet'])).rejects.toThrow(/unknown example 'lenet'/);
  });

  it('rejects an unknown backend with the choices', async () => {
    await expect(runExample(['linear', '--backend', 'torch'])).rejects.toThrow(/Allowed choices are onnxruntime, tfjs/);
  });
});
