/**
 * @packageDocumentation
 * The araboza conformance suite. A backend package runs it from a vitest
 * file with one call:
 *
 * ```ts
 * import { describeConformance } from '@araboza/conformance';
 * import { createBackend } from 'my-araboza-backend';
 * describeConformance(() => createBackend());
 * ```
 *
 * or from the command line: `araboza-conformance --backend my-araboza-backend`.
 */
export { describeConformance, describeAgreement, registerCases } from './describe.js';
export { runConformance, runCases, caseContext, runSuite } from './runner.js';
export {
  ConformanceRunError,
  CREATE_BACKEND_TIMEOUT_MS,
  unmatchedPatterns,
  assertPatternsMatch,
  assertSomethingRan,
  createBackendWithin,
} from './run-guards.js';
export type { PatternSources } from './run-guards.js';
export type { RunOptions, ConformanceReport } from './runner.js';
export { conformanceCases } from './suite.js';
export {
  AGREEMENT_MODELS,
  AGREEMENT_STEPS,
  AGREEMENT_BATCH_SIZE,
  AGREEMENT_PREDICT_TOLERANCE,
  agreementLossTolerance,
  agreementCases,
  runAgreementModel,
} from './agreement.js';
export type { AgreementModel, AgreementRun, AgreementOptions, AgreementContext } from './agreement.js';
export { coverageMatrix, formatCoverageMatrix, countResults, summaryLine } from './matrix.js';
export type { CoverageMatrix, MatrixCell } from './matrix.js';
export { matchesPattern, selectCase, resolvePatterns, environmentPatterns, patternList, processEnvironment } from './patterns.js';
export type { Selection, Environment } from './patterns.js';
export { FORWARD_TOLERANCE, GRADIENT_TOLERANCE, assertClose } from './assert.js';
export type { Tolerance } from './assert.js';
export { FULL_TRAINING, SHORT_TRAINING } from './checks/training.js';
export { FULL_HD_SHAPE } from './checks/reference.js';
export * from './golden.js';
export { loadGraphGoldenCases, graphGoldenModel, GRAPH_FIXTURE, GRAPH_GENERATOR } from './graph-golden.js';
export type { GraphGoldenCase, GraphTopology, GraphWeight } from './graph-golden.js';
export { loadMetricGoldenCases, METRIC_FIXTURE, METRIC_GENERATOR } from './metric-golden.js';
export type { MetricGoldenCase } from './metric-golden.js';
export { SkipSignal, ConformanceFailure } from './types.js';
export type { Pattern, MatrixAspect, TrainingMode, ConformanceOptions, CaseContext, ConformanceCase, CaseStatus, CaseResult, BackendFactory } from './types.js';
