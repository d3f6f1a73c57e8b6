/**
 * Runs the conformance suite without a test framework (used by the
 * `araboza-conformance` CLI). Importing this module does not load vitest.
 * Browsers use `@araboza/conformance/browser` instead (no Node built-in).
 * @packageDocumentation
 */
import { runSuite, type ConformanceReport, type RunOptions } from './run-cases.js';
import { conformanceCases } from './suite.js';
import type { BackendFactory } from './types.js';

/**
 * Runs the whole per-backend suite against the backend made by
 * `createBackend`, sequentially, and returns the results, the coverage
 * matrix and the counts.
 * @throws ConformanceRunError (one line) when a pattern matches no test id,
 * when the factory fails or does not settle within `createTimeoutMs`, or when
 * no test ran: the run says nothing about the backend then.
 */
export async function runConformance(createBackend: BackendFactory, options: RunOptions = {}): Promise<ConformanceReport> {
  return runSuite(conformanceCases({ training: options.training }), createBackend, options);
}

export { runCases, caseContext, runSuite } from './run-cases.js';
export type { RunOptions, ConformanceReport } from './run-cases.js';
export { formatCoverageMatrix, summaryLine, coverageMatrix, countResults } from './matrix.js';
export { conformanceCases } from './suite.js';
export { ConformanceRunError, CREATE_BACKEND_TIMEOUT_MS } from './run-guards.js';
export type { CaseResult, ConformanceCase, BackendFactory } from './types.js';
