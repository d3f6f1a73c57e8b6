import type { Backend } from '@araboza/core';
import { afterAll, beforeAll, describe, it, type TestContext } from 'vitest';
import { agreementCases, agreementContextFactory, type AgreementContext, type AgreementOptions } from './agreement.js';
import { coverageMatrix, formatCoverageMatrix, summaryLine } from './matrix.js';
import { resolvePatterns, selectCase } from './patterns.js';
import { CREATE_BACKEND_TIMEOUT_MS, ConformanceRunError, assertPatternsMatch } from './run-guards.js';
import { conformanceCases } from './suite.js';
import { SkipSignal, type BackendFactory, type CaseContext, type CaseResult, type ConformanceCase, type ConformanceOptions } from './types.js';

/**
 * Registers cases as vitest tests: selected ones with `it` (or `it.fails`
 * for xfail), excluded ones with `it.skip` so they show as skipped. A test
 * calling `ctx.skip(reason)` is reported skipped with that reason. Records
 * each outcome in `results`.
 */
export function registerCases<C>(
  cases: readonly ConformanceCase<C>[],
  patterns: ReturnType<typeof resolvePatterns>,
  context: (t: TestContext, logs: (msg: string) => void) => C,
  results: CaseResult[],
): void {
  for (const c of cases) {
    const sel = selectCase(c, patterns);
    if (!sel.run) {
      it.skip(`${c.id} (${sel.reason})`, () => undefined);
      results.push({ id: c.id, status: 'skipped', message: sel.reason, ms: 0 });
      continue;
    }
    const body = async (t: TestContext) => {
      const started = performance.now();
      const log = (msg: string) => console.log(`[${c.id}] ${msg}`);
      try {
        await c.run(context(t, log));
      } catch (err) {
        const ms = performance.now() - started;
        if (err instanceof SkipSignal) {
          results.push({ id: c.id, status: 'skipped', message: err.reason, ms });
          t.skip(err.reason);
        }
        results.push({ id: c.id, status: sel.xfail ? 'xfail' : 'failed', message: err instanceof Error ? err.message : String(err), ms });
        throw err;
      }
      results.push({ id: c.id, status: sel.xfail ? 'xpass' : 'passed', ms: performance.now() - started });
    };
    (sel.xfail ? it.fails : it)(c.id, body, c.timeoutMs);
  }
}

/**
 * Registers the whole conformance suite for one backend as vitest tests in
 * the calling test file: coverage, the reference experiments (the full-HD
 * one is tagged `large`), golden vectors, errors and autoencoder training.
 * The backend is created once, before the first test.
 *
 * @throws ConformanceRunError when a pattern matches no test id, or the
 * patterns select no test at all (a run that would check nothing).
 *
 * @example
 * ```ts
 * import { describeConformance } from '@araboza/conformance';
 * import { createBackend } from 'my-araboza-backend';
 * describeConformance(() => createBackend(), { exclude: ['@large'] });
 * ```
 */
export function describeConformance(createBackend: BackendFactory, options: ConformanceOptions = {}): void {
  const cases = conformanceCases({ training: options.training });
  assertPatternsMatch(cases, options);
  const patterns = resolvePatterns(options);
  if (!cases.some((c) => selectCase(c, patterns).run))
    throw new ConformanceRunError(`describeConformance: the patterns select none of the ${cases.length} tests: nothing would be checked`);
  const results: CaseResult[] = [];
  describe(options.name ?? 'conformance', () => {
    let backend: Backend | null = null;
    beforeAll(async () => {
      backend = await createBackend();
    }, CREATE_BACKEND_TIMEOUT_MS);
    registerCases<CaseContext>(
      cases,
      patterns,
      (t, log) => ({
        get backend(): Backend {
          if (!backend) throw new Error('conformance: the backend was not created (see the beforeAll error)');
          return backend;
        },
        skip(reason: string): never {
          throw new SkipSignal(reason);
        },
        log,
      }),
      results,
    );
    afterAll(() => {
      if (!backend || options.printMatrix === false) return;
      const ran = results.filter((r) => r.status !== 'skipped' || r.ms > 0);
      if (ran.length === 0) return;
      console.log(`${formatCoverageMatrix(coverageMatrix(backend, cases, results), `coverage matrix of ${backend.name}:`)}\n${summaryLine(results)}`);
    });
  });
}

/**
 * Registers the cross-backend agreement tests: every model of
 * {@link AGREEMENT_MODELS} with the same initial weights and batches on each
 * backend gives the same `predict` output and the same losses over the first
 * {@link AGREEMENT_STEPS} training steps as the first backend (the
 * reference). Tolerances: {@link AGREEMENT_PREDICT_TOLERANCE} and
 * {@link agreementLossTolerance}.
 *
 * @param backends - labelled factories; the first is the reference.
 */
export function describeAgreement(backends: Readonly<Record<string, BackendFactory>>, options: AgreementOptions = {}): void {
  const cases = agreementCases(Object.keys(backends), options.stateTolerance);
  const patterns = resolvePatterns(options);
  const context = agreementContextFactory(backends);
  describe(options.name ?? 'agreement', () => {
    registerCases<AgreementContext>(
      cases,
      patterns,
      (_t, log) =>
        context(log, (reason: string): never => {
          throw new SkipSignal(reason);
        }),
      [],
    );
  });
}
