import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createExampleBackend } from '../src/backends.js';
import { trainMnistClassifier } from '../src/classifier.js';
import { runExample } from './run-example.js';

const source = readFileSync(new URL('../src/classifier.ts', import.meta.url), 'utf8');
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The lines between the example's `// #region readme` and `// #endregion readme`, less their common indentation. */
function readmeRegion(): string[] {
  const lines = source.split('\n');
  const start = lines.findIndex((l) => l.trim() === '// #region readme');
  const end = lines.findIndex((l) => l.trim() === '// #endregion readme');
  const body = lines.slice(start + 1, end);
  const indent = Math.min(...body.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length));
  return body.map((l) => l.slice(indent));
}

/** The `ts` code block of the README's "A short example" section. */
function readmeSnippet(): string[] {
  const section = readme.slice(readme.indexOf('## A short example'));
  const open = section.indexOf('```ts\n') + '```ts\n'.length;
  return section.slice(open, section.indexOf('```', open)).split('\n');
}

describe('the README classifier', () => {
  it('is the example the tests train: its snippet ends with the example region, line for line', () => {
    const region = readmeRegion();
    expect(region.length).toBeGreaterThan(20);
    const snippet = readmeSnippet();
    const at = snippet.indexOf(region[0]);
    expect(at).toBeGreaterThan(0);
    expect(snippet.slice(at, at + region.length)).toEqual(region);
    expect(snippet.slice(at + region.length).every((l) => l.trim() === '')).toBe(true);
  });

  describe.each(['onnxruntime', 'tfjs'] as const)('on %s', (name) => {
    it('trains with the accuracy metric, a cosine schedule and early stopping, and learns', async () => {
      const backend = await createExampleBackend({ backend: name, ...(name === 'tfjs' ? { engine: 'wasm' } : {}) });
      const { model, history } = await trainMnistClassifier(backend, { epochs: 3, limit: 1280, seed: 0, verbose: 0 });
      try {
        const h = history.history;
        expect(Object.keys(h)).toEqual(expect.arrayContaining(['loss', 'accuracy', 'valLoss', 'val_accuracy']));
        expect(h.accuracy.length).toBe(history.epoch.length);
        expect(h.val_accuracy.length).toBe(history.epoch.length);
        expect(history.epoch.length).toBeGreaterThan(0);
        expect(history.epoch.length).toBeLessThanOrEqual(3);
        expect(h.loss[h.loss.length - 1]).toBeLessThan(h.loss[0]);
        expect(Math.max(...h.val_accuracy)).toBeGreaterThan(0.7);
      } finally {
        model.dispose();
      }
    }, 300_000);
  });

  it('runs from the command line and reports the test accuracy with the best weights', async () => {
    const { json, stdout } = await runExample(['classifier', '--backend', 'onnxruntime', '--limit', '1280', '--epochs', '2', '--quiet'], 300_000);
    expect(json).toMatchObject({ example: 'classifier', epochsRun: expect.any(Number) });
    expect(json.epochsRun as number).toBeLessThanOrEqual(2);
    expect(json.testAccuracy as number).toBeGreaterThan(0.6);
    expect(stdout).toContain('best validation accuracy');
  }, 300_000);
});
