/**
 * The runner's shared part, with no Node built-in and no suite: it runs a list
 * of cases against a backend (the Node runner, `runner.ts`, and the browser
 * runner, `browser.ts`, pass their suites).
 * @packageDocumentation
 */
import type { Backend } from '@araboza/core';
import { coverageMatrix, countResults, summaryLine, type CoverageMatrix } from './matrix.js';
import { resolvePatterns, selectCase } from './patterns.js';
import { CREATE_BACKEND_TIMEOUT_MS, assertPatternsMatch, assertSomethingRan, createBackendWithin } from './run-guards.js';
import { SkipSignal, type BackendFactory, type CaseContext, type CaseResult, type ConformanceCase, type ConformanceOptions } from './types.js';

/** Options of {@link runConformance} and the browser runner. */
export interface RunOptions extends Omit<ConformanceOptions, 'name' | 'printMatrix'> {
  /** Called after each test with its result and the lines it logged. */
  onResult?: (result: CaseResult, logs: readonly string[]) => void;
  /** How long `createBackend` may take before the run fails (default {@link CREATE_BACKEND_TIMEOUT_MS}). */
  createTimeoutMs?: number;
}

/** What {@link runConformance} and the browser runner return. */
export interface ConformanceReport {
  /** The backend's name. */
  readonly backend: string;
  readonly results: readonly CaseResult[];
  readonly matrix: CoverageMatrix;
  readonly counts: { passed: number; failed: number; skipped: number };
  /** `N passed, N failed, N skipped`. */
  readonly summary: string;
  /** Wall time of the whole run in seconds. */
  readonly seconds: number;
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/** Runs `work` with a time limit; rejects with a clear message when it runs over. */
async function withTimeout<T>(work: Promise<T>, ms: number, id: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${id} timed out after ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs cases one after another with a context built by `context` and returns
 * one result per case (excluded ones as skipped, with the reason).
 */
export async function runCases<C>(
  cases: readonly ConformanceCase<C>[],
  patterns: ReturnType<typeof resolvePatterns>,
  context: (logs: string[]) => C,
  onResult?: (result: CaseResult, logs: readonly string[]) => void,
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const c of cases) {
    const sel = selectCase(c, patterns);
    const logs: string[] = [];
    let result: CaseResult;
    if (!sel.run) {
      result = { id: c.id, status: 'skipped', message: sel.reason, ms: 0 };
    } else {
      const started = performance.now();
      let error: unknown = null;
      try {
        await withTimeout(c.run(context(logs)), c.timeoutMs, c.id);
      } catch (err) {
        error = err;
      }
      const ms = performance.now() - started;
      if (error instanceof SkipSignal) result = { id: c.id, status: 'skipped', message: error.reason, ms };
      else if (sel.xfail)
        result = error
          ? { id: c.id, status: 'xfail', message: errorMessage(error), ms }
          : { id: c.id, status: 'xpass', message: 'expected to fail (xfail) but passed', ms };
      else result = error ? { id: c.id, status: 'failed', message: errorMessage(error), ms } : { id: c.id, status: 'passed', ms };
    }
    results.push(result);
    onResult?.(result, logs);
  }
  return results;
}

/** A per-backend test context that records logs. */
export function caseContext(backend: Backend, logs: string[]): CaseContext {
  return {
    backend,
    skip(reason: string): never {
      throw new SkipSignal(reason);
    },
    log(message: string) {
      logs.push(message);
    },
  };
}

/**
 * Runs `cases` against the backend made by `createBackend`, sequentially, and
 * returns the results, the coverage matrix and the counts.
 * @throws ConformanceRunError (one line) when a pattern matches no test id,
 * when the factory fails or does not settle within `createTimeoutMs`, or when
 * no test ran: the run says nothing about the backend then.
 */
export async function runSuite(cases: readonly ConformanceCase[], createBackend: BackendFactory, options: RunOptions = {}): Promise<ConformanceReport> {
  const started = performance.now();
  assertPatternsMatch(cases, options);
  const backend = await createBackendWithin(createBackend, options.createTimeoutMs ?? CREATE_BACKEND_TIMEOUT_MS);
  const results = await runCases(cases, resolvePatterns(options), (logs) => caseContext(backend, logs), options.onResult);
  assertSomethingRan(results);
  return {
    backend: backend.name,
    results,
    matrix: coverageMatrix(backend, cases, results),
    counts: countResults(results),
    summary: summaryLine(results),
    seconds: (performance.now() - started) / 1000,
  };
}
