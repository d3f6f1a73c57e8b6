import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '@araboza/core';
import { runExample } from './run-example.js';

const dir = await mkdtemp(join(tmpdir(), 'araboza-resnet-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.each(['onnxruntime', 'tfjs'])('residual network example on %s (short run)', (backend) => {
  it('trains the 9,930-parameter network, reports accuracy and loss from inference, and saves the model with its moving statistics', async () => {
    const save = join(dir, `model-${backend}`);
    const { json, stdout } = await runExample(['resnet', '--backend', backend, '--limit', '512', '--save', save, '--quiet'], 300_000);
    expect(stdout).toContain('Total params: 9,930\nTrainable params: 9,770\nNon-trainable params: 160');
    expect(json).toMatchObject({ example: 'resnet', params: 9930, trainableParams: 9770, nonTrainableParams: 160 });
    expect(json.testAccuracy as number).toBeGreaterThanOrEqual(0);
    expect(json.testAccuracy as number).toBeLessThanOrEqual(1);
    expect(Number.isFinite(json.testLoss as number)).toBe(true);
    const back = await loadModel(save);
    expect(back.countNonTrainableParams()).toBe(160);
    // Four training steps moved every moving mean away from its initial zeros.
    const bn = back.layers.find((l) => l.kind === 'batchNormalization')!;
    expect(bn.getWeights()[2].data.some((v) => v !== 0)).toBe(true);
  }, 300_000);
});
