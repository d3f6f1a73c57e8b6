import { LAYER_KINDS } from '@araboza/core';
import { describe, expect, it } from 'vitest';
import { conformanceCases, countResults, coverageMatrix, formatCoverageMatrix, matchesPattern, selectCase, summaryLine } from '../src/index.js';
import { assertClose } from '../src/assert.js';
import type { CaseResult } from '../src/types.js';

const ids = conformanceCases({ training: 'full' }).map((c) => c.id);

describe('suite ids', () => {
  it('are unique and cover every group', () => {
    expect(new Set(ids).size).toBe(ids.length);
    for (const prefix of ['coverage/', 'reference/', 'golden/', 'errors/', 'training/']) expect(ids.some((id) => id.startsWith(prefix))).toBe(true);
  });

  it('give three golden tests per fixture case, for every layer kind', () => {
    for (const kind of LAYER_KINDS) {
      const forward = ids.filter((id) => id.startsWith(`golden/${kind}/`) && id.endsWith('/forward'));
      expect(forward.length, kind).toBeGreaterThan(0);
      expect(ids.filter((id) => id.startsWith(`golden/${kind}/`)).length).toBe(3 * forward.length);
    }
    expect(ids).toContain('golden/conv2d/k3-s2-same-7x7/gradients');
  });

  it('tag the full-HD convolution large and switch the training test with the mode', () => {
    const fhd = conformanceCases().find((c) => c.id === 'reference/conv-fhd');
    expect(fhd?.tags).toContain('large');
    expect(ids).toContain('training/autoencoder-one-epoch');
    expect(conformanceCases({ training: 'short' }).map((c) => c.id)).toContain('training/autoencoder-short');
  });
});

describe('patterns', () => {
  const test = { id: 'golden/conv2d/k3-s1-valid-7x7/forward', tags: ['golden'] };
  it('match whole path segments, not name prefixes', () => {
    expect(matchesPattern(test, 'golden/conv2d')).toBe(true);
    expect(matchesPattern({ ...test, id: 'golden/conv2dTranspose/k3-s1-valid-3x3/forward' }, 'golden/conv2d')).toBe(false);
  });
  it('support globs, regular expressions and @tags', () => {
    expect(matchesPattern(test, 'golden/*/forward')).toBe(true);
    expect(matchesPattern(test, /valid-7x7/)).toBe(true);
    expect(matchesPattern(test, '@golden')).toBe(true);
    expect(matchesPattern(test, '@large')).toBe(false);
  });
  it('select by include, then exclude, and flag xfail', () => {
    const p = { include: ['golden'], exclude: [/valid/], xfail: [] };
    expect(selectCase(test, p)).toEqual({ run: false, reason: 'excluded by /valid/' });
    expect(selectCase({ ...test, id: 'errors/nan-loss-fit' }, p)).toEqual({ run: false, reason: 'not included' });
    expect(selectCase(test, { include: [], exclude: [], xfail: ['golden/conv2d'] })).toEqual({ run: true, xfail: true });
  });
});

describe('matrix and summary', () => {
  const cases = conformanceCases({ training: 'short' });
  const results: CaseResult[] = cases.map((c) => ({
    id: c.id,
    status: c.id === 'golden/dense/r2-u3-linear-bias/gradients' ? 'failed' : c.id.startsWith('golden/conv1d/') ? 'skipped' : 'passed',
    ms: 1,
  }));
  const kinds = LAYER_KINDS.filter((k) => k !== 'conv1d');

  it('reports unsupported kinds, failures and passes per aspect', () => {
    const m = coverageMatrix({ kinds }, cases, results);
    expect(m.conv1d.forward.status).toBe('unsupported');
    expect(m.dense.gradient).toMatchObject({ status: 'fail', failed: 1 });
    expect(m.dense.forward.status).toBe('pass');
    const text = formatCoverageMatrix(m);
    expect(text).toMatch(/^conv1d\s+unsupported\s+unsupported\s+unsupported$/m);
    expect(text).toMatch(/^dense\s+pass \d+\/\d+\s+FAIL 1\/\d+/m);
  });

  it('closes with N passed, N failed, N skipped (expected failures count as passed)', () => {
    const extra: CaseResult[] = [
      { id: 'x', status: 'xfail', ms: 0 },
      { id: 'y', status: 'xpass', ms: 0 },
    ];
    const c = countResults(results);
    expect(summaryLine([...results, ...extra])).toBe(`${c.passed + 1} passed, ${c.failed + 1} failed, ${c.skipped} skipped`);
  });
});

describe('assertClose', () => {
  const e = { shape: [2, 2], data: Float32Array.from([1, -2, 0, 4]) };
  it('accepts differences within rtol · (|e| + max|E|)', () => {
    expect(() => assertClose({ shape: [2, 2], data: Float32Array.from([1, -2, 3e-5, 4]) }, e, { rtol: 1e-5 }, 't')).not.toThrow();
  });
  it('names the worst element and rejects NaN', () => {
    expect(() => assertClose({ shape: [2, 2], data: Float32Array.from([1, -2, 0, 4.1]) }, e, { rtol: 1e-5 }, 't')).toThrow(/worst at \[1, 1\]: got 4.0999/);
    expect(() => assertClose({ shape: [2, 2], data: Float32Array.from([1, NaN, 0, 4]) }, e, { rtol: 1e-5 }, 't')).toThrow(/1 of 4 values/);
    expect(() => assertClose({ shape: [4], data: e.data }, e, { rtol: 1e-5 }, 't')).toThrow(/expected shape \[2, 2\]/);
  });
});
