import { fetchConformanceFixtures, runBrowserConformance } from '@araboza/conformance/browser';
import { backendFor, ENGINES, type Engine } from './engines.js';

/** What a conformance run in the page gives back (plain data, for scripts/browser-check.mjs). */
export interface ConformanceRun {
  engine: Engine;
  /** `N passed, N failed, N skipped`. */
  summary: string;
  counts: { passed: number; failed: number; skipped: number };
  /** The failed tests' ids and messages (at most 20). */
  failures: string[];
  seconds: number;
}

/**
 * Runs the tests of `@araboza/conformance`'s browser suite that match `include` (all of them when empty) on `engine`, with the fixtures
 * fetched from `/conformance-fixtures/` (served by scripts/serve.mjs from the conformance package's `fixtures/`).
 */
export async function runConformanceIn(engine: Engine, include: readonly string[]): Promise<ConformanceRun> {
  if (!ENGINES.includes(engine)) throw new Error(`unknown engine ${JSON.stringify(engine)} (known: ${ENGINES.join(', ')})`);
  await fetchConformanceFixtures(new URL('/conformance-fixtures/', location.href));
  const report = await runBrowserConformance(() => backendFor(engine), { include: [...include] });
  const failures = report.results.filter((r) => r.status === 'failed' || r.status === 'xpass').map((r) => `${r.id}: ${r.message ?? ''}`);
  return { engine, summary: report.summary, counts: report.counts, failures: failures.slice(0, 20), seconds: report.seconds };
}
