import { LAYER_KINDS, type Backend, type LayerKind } from '@araboza/core';
import type { CaseResult, ConformanceCase, MatrixAspect } from './types.js';

/** One cell of the coverage matrix. */
export interface MatrixCell {
  /**
   * `pass`: every test of the cell passed (expected failures included);
   * `fail`: at least one failed; `unsupported`: the backend does not declare
   * the kind; `skipped`: no test of the cell ran (excluded by patterns).
   */
  readonly status: 'pass' | 'fail' | 'unsupported' | 'skipped';
  readonly passed: number;
  readonly failed: number;
  /** Tests of the cell that ran (passed + failed). */
  readonly ran: number;
  /** Tests of the cell in the suite. */
  readonly total: number;
}

/** Layer kind × forward/gradient/training, from the golden tests' results. */
export type CoverageMatrix = Record<LayerKind, Record<MatrixAspect, MatrixCell>>;

const ASPECTS: readonly MatrixAspect[] = ['forward', 'gradient', 'training'];

/** Builds the coverage matrix of a backend from the suite and its results. */
export function coverageMatrix(backend: Pick<Backend, 'kinds'>, cases: readonly ConformanceCase<unknown>[], results: readonly CaseResult[]): CoverageMatrix {
  const byId = new Map(results.map((r) => [r.id, r]));
  const matrix = {} as CoverageMatrix;
  for (const kind of LAYER_KINDS) {
    matrix[kind] = {} as Record<MatrixAspect, MatrixCell>;
    for (const aspect of ASPECTS) {
      const cell = cases.filter((c) => c.matrix?.kind === kind && c.matrix.aspect === aspect);
      let passed = 0;
      let failed = 0;
      for (const c of cell) {
        const s = byId.get(c.id)?.status;
        if (s === 'passed' || s === 'xfail') passed++;
        else if (s === 'failed' || s === 'xpass') failed++;
      }
      const status = !backend.kinds.includes(kind) ? 'unsupported' : failed > 0 ? 'fail' : passed > 0 ? 'pass' : 'skipped';
      matrix[kind][aspect] = { status, passed, failed, ran: passed + failed, total: cell.length };
    }
  }
  return matrix;
}

function cellText(c: MatrixCell): string {
  switch (c.status) {
    case 'unsupported':
      return 'unsupported';
    case 'skipped':
      return 'skipped';
    case 'pass':
      return `pass ${c.passed}/${c.total}`;
    case 'fail':
      return `FAIL ${c.failed}/${c.ran}`;
  }
}

/** The matrix as a text table, one row per layer kind. */
export function formatCoverageMatrix(matrix: CoverageMatrix, title?: string): string {
  const rows = [['layer kind', ...ASPECTS], ...LAYER_KINDS.map((k) => [k, ...ASPECTS.map((a) => cellText(matrix[k][a]))])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const out = rows.map(line);
  out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return (title ? `${title}\n` : '') + out.join('\n');
}

/** Counts of a run: expected failures count as passed, unexpected passes as failed (as vitest's `it.fails`). */
export function countResults(results: readonly CaseResult[]): { passed: number; failed: number; skipped: number } {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const r of results) {
    if (r.status === 'passed' || r.status === 'xfail') passed++;
    else if (r.status === 'failed' || r.status === 'xpass') failed++;
    else skipped++;
  }
  return { passed, failed, skipped };
}

/** The closing line: `N passed, N failed, N skipped`. */
export function summaryLine(results: readonly CaseResult[]): string {
  const c = countResults(results);
  return `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;
}
