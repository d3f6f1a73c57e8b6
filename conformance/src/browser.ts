/**
 * @packageDocumentation
 * The conformance runner for browsers (`@araboza/conformance/browser`, under
 * the `browser` export condition): it imports no Node built-in and no test
 * framework. Fixtures are fetched once from wherever the page serves the
 * package's `fixtures/` folder, then the browser's part of the suite runs:
 *
 * ```ts
 * import { fetchConformanceFixtures, runBrowserConformance } from '@araboza/conformance/browser';
 * await fetchConformanceFixtures('/conformance-fixtures/');
 * const report = await runBrowserConformance(() => tfjsBackend({ engine: 'wasm' }), { include: ['golden/dense'] });
 * console.log(report.summary);
 * ```
 */
import { browserConformanceCases } from './browser-suite.js';
import { runSuite, type ConformanceReport, type RunOptions } from './run-cases.js';
import type { BackendFactory } from './types.js';

/** Options of {@link runBrowserConformance}: those of the Node runner but `training` (the training runs need Node). */
export type BrowserRunOptions = Omit<RunOptions, 'training'>;

/**
 * Runs the browser's part of the per-backend suite ({@link browserConformanceCases})
 * against the backend made by `createBackend`, sequentially, and returns the
 * results, the coverage matrix and the counts, as `runConformance` does in Node.
 * Call {@link fetchConformanceFixtures} first.
 * @throws Error naming a fixture when the fixtures were not fetched.
 * @throws ConformanceRunError (one line) when a pattern matches no test id,
 * when the factory fails or does not settle within `createTimeoutMs`, or when no test ran.
 */
export async function runBrowserConformance(createBackend: BackendFactory, options: BrowserRunOptions = {}): Promise<ConformanceReport> {
  return runSuite(browserConformanceCases(), createBackend, options);
}

export { browserConformanceCases, NODE_ONLY_TESTS } from './browser-suite.js';
export { fetchConformanceFixtures, CONFORMANCE_FIXTURE_FILES } from './fixture-store.js';
export { runCases, caseContext } from './run-cases.js';
export type { RunOptions, ConformanceReport } from './run-cases.js';
export { formatCoverageMatrix, summaryLine, coverageMatrix, countResults } from './matrix.js';
export type { CoverageMatrix, MatrixCell } from './matrix.js';
export { ConformanceRunError, CREATE_BACKEND_TIMEOUT_MS } from './run-guards.js';
export type { CaseResult, CaseStatus, ConformanceCase, BackendFactory } from './types.js';
