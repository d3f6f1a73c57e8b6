import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOSS_KINDS, OPTIMIZER_DEFAULTS, cosineDecay, exponentialDecay, optimizerSlots, piecewiseConstantDecay } from '@araboza/core';
import { describe, expect, it } from 'vitest';
import { loadEdgeCases } from '../src/checks/edge-checks.js';
import { conformanceCases } from '../src/suite.js';
import { TRAINING_FIXTURES_DIR, TRAINING_GENERATOR, loadAutoencoderTrajectory, loadLossGoldenCases, loadOptimizerGoldenCases } from '../src/training-golden.js';

describe('training fixtures', () => {
  it('hold a multi-step sequence of every optimizer core defines, with core slot names', () => {
    const cases = loadOptimizerGoldenCases();
    expect(new Set(cases.map((c) => c.optimizer.kind))).toEqual(new Set(Object.keys(OPTIMIZER_DEFAULTS)));
    expect(cases.some((c) => c.optimizer.kind === 'sgd' && c.optimizer.momentum > 0)).toBe(true);
    for (const c of cases) {
      expect(c.slotNames, c.id).toEqual(optimizerSlots(c.optimizer));
      expect(
        c.steps.map((s) => s.step),
        c.id,
      ).toEqual([1, 2, 3, 4, 5]);
    }
  });

  it('give every sequence exact zero gradients and gradients of size 1e-4', () => {
    for (const c of loadOptimizerGoldenCases()) {
      const kernelGrad = c.steps[0].gradients[0].data;
      const row = (r: number) => Array.from(kernelGrad.slice(r * 3, r * 3 + 3), Math.abs);
      expect(row(1), c.id).toEqual([0, 0, 0]);
      expect(Math.max(...row(2)), c.id).toBeLessThan(1e-3);
      expect(Math.max(...row(2)), c.id).toBeGreaterThan(1e-6);
    }
  });

  it('cover both cross-entropies on the probability and the logits path, and MSE', () => {
    const paths = loadLossGoldenCases().map((c) => `${c.settings.kind}:${c.activation}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        'binaryCrossentropy:linear',
        'binaryCrossentropy:sigmoid',
        'categoricalCrossentropy:linear',
        'categoricalCrossentropy:softmax',
        'meanSquaredError:linear',
      ]),
    );
  });

  it('cover every loss core defines, and each cross-entropy from logits given by the user', () => {
    const cases = loadLossGoldenCases();
    expect(new Set(cases.map((c) => c.settings.kind))).toEqual(new Set(LOSS_KINDS));
    const userLogits = cases.filter((c) => c.settings.fromLogits).map((c) => c.settings.kind);
    expect(new Set(userLogits)).toEqual(new Set(['binaryCrossentropy', 'categoricalCrossentropy', 'sparseCategoricalCrossentropy']));
  });

  it("give core's learning-rate schedules the generator's rate at every step", () => {
    const doc = JSON.parse(readFileSync(join(TRAINING_FIXTURES_DIR, 'schedules.json'), 'utf8')) as {
      cases: { schedule: 'exponentialDecay' | 'piecewiseConstantDecay' | 'cosineDecay'; options: never; rates: number[] }[];
    };
    const factories = { exponentialDecay, piecewiseConstantDecay, cosineDecay };
    expect(new Set(doc.cases.map((c) => c.schedule))).toEqual(new Set(Object.keys(factories)));
    for (const c of doc.cases) {
      const schedule = factories[c.schedule](c.options);
      c.rates.forEach((rate, step) =>
        expect(Math.abs(schedule.at(step) - rate), `${c.schedule} ${JSON.stringify(c.options)} step ${step}`).toBeLessThanOrEqual(1e-12 * rate),
      );
    }
  });

  it('put the edge cases on ties, relu zeros and dilation 3 with even kernels into the golden tests', () => {
    const ids = loadEdgeCases().map((c) => c.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'maxPooling2d/ties-saturated-digit-p2-same-7x7',
        'activation/relu-exact-zeros-r2',
        'conv1d/k2-d3-same-L9',
        'conv2d/k4x2-d3-same-9x9',
      ]),
    );
    const suite = conformanceCases().map((c) => c.id);
    expect(suite).toContain('golden/conv2d/k4x2-d3-same-9x9/gradients');
    expect(suite).toContain('optimizers/adam/resume');
    expect(suite).toContain('chains/conv2d-k2-same-f1-then-maxpool-p1/gradients');
    expect(suite).toContain('losses/binaryCrossentropy/probabilities-extremes/gradients');
  });

  it('hold the autoencoder trajectory of every optimizer kind: 10 steps from the same weights, the loss falling', () => {
    const t = loadAutoencoderTrajectory();
    expect(new Set(t.runs.map((r) => r.optimizer.kind))).toEqual(new Set(Object.keys(OPTIMIZER_DEFAULTS)));
    expect(t.initialWeights.reduce((n, w) => n + w.data.length, 0)).toBe(3369);
    for (const r of t.runs) {
      expect(r.losses, r.id).toHaveLength(10);
      expect(r.losses[9], r.id).toBeLessThan(r.losses[0]);
    }
    expect(conformanceCases().map((c) => c.id)).toContain('training/autoencoder-trajectory/adam');
  });

  it('reject a malformed fixture naming the file and the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'araboza-training-fixtures-'));
    writeFileSync(
      join(dir, 'losses.json'),
      JSON.stringify({
        generator: TRAINING_GENERATOR,
        cases: [{ id: 'x', loss: 'meanSquaredError', activation: 'linear', input: { shape: [1, 2], data: [1] } }],
      }),
    );
    expect(() => loadLossGoldenCases(dir)).toThrow(`${join(dir, 'losses.json')}: cases[0].input.data: shape [1, 2] needs 2 values, got 1`);
  });
});
