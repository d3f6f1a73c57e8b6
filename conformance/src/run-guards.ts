import type { Backend } from '@araboza/core';
import { environmentPatterns, matchesPattern, patternList, processEnvironment, type Environment } from './patterns.js';
import type { BackendFactory, CaseResult, ConformanceCase, Pattern } from './types.js';

/**
 * Time limit of creating the backend (loading an engine, e.g. a wasm binary),
 * for {@link runConformance}, `describeConformance` and the CLI's default.
 */
export const CREATE_BACKEND_TIMEOUT_MS = 120_000;

/**
 * The run itself is not valid, so no verdict on the backend can be given: a
 * pattern that selects nothing, no test run at all, or a backend factory
 * that failed or did not settle. The message is one line saying why.
 */
export class ConformanceRunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceRunError';
  }
}

/** The patterns of a run, by the option (or environment variable) they came from. */
export interface PatternSources {
  include?: readonly Pattern[] | Pattern;
  exclude?: readonly Pattern[] | Pattern;
  xfail?: readonly Pattern[] | Pattern;
}

function describePattern(p: Pattern): string {
  return p instanceof RegExp ? String(p) : `'${p}'`;
}

/**
 * Every pattern (from the options and from `ARABOZA_CONFORMANCE_INCLUDE`,
 * `…_EXCLUDE`, `…_XFAIL`) that matches no test id at all, each with where it
 * came from: a typo would otherwise silently run everything, or nothing.
 */
export function unmatchedPatterns(
  cases: readonly Pick<ConformanceCase<unknown>, 'id' | 'tags'>[],
  options: PatternSources,
  env: Environment = processEnvironment(),
): string[] {
  const fromEnv = environmentPatterns(env);
  const sources: [string, Pattern[]][] = [
    ['include', patternList(options.include)],
    ['exclude', patternList(options.exclude)],
    ['xfail', patternList(options.xfail)],
    ['ARABOZA_CONFORMANCE_INCLUDE', fromEnv.include],
    ['ARABOZA_CONFORMANCE_EXCLUDE', fromEnv.exclude],
    ['ARABOZA_CONFORMANCE_XFAIL', fromEnv.xfail],
  ];
  const unmatched: string[] = [];
  for (const [source, patterns] of sources) {
    for (const p of patterns) {
      if (!cases.some((c) => matchesPattern(c, p))) unmatched.push(`${source} pattern ${describePattern(p)}`);
    }
  }
  return unmatched;
}

/**
 * Throws a {@link ConformanceRunError} naming every pattern that matches no
 * test id of `cases`.
 */
export function assertPatternsMatch(cases: readonly Pick<ConformanceCase<unknown>, 'id' | 'tags'>[], options: PatternSources): void {
  const unmatched = unmatchedPatterns(cases, options);
  if (unmatched.length > 0) {
    throw new ConformanceRunError(
      `${unmatched.join(', ')} ${unmatched.length === 1 ? 'matches' : 'match'} no test id (of ${cases.length}; list them with --list)`,
    );
  }
}

/** Throws a {@link ConformanceRunError} when no test ran (every one excluded, or skipped by the backend). */
export function assertSomethingRan(results: readonly CaseResult[]): void {
  const ran = results.filter((r) => r.status !== 'skipped').length;
  if (ran === 0) throw new ConformanceRunError(`no test ran (${results.length} skipped): nothing was checked`);
}

/**
 * Calls the backend factory and waits at most `timeoutMs` for it.
 * @throws ConformanceRunError when the factory throws, rejects, does not settle in time, or returns something that is not a backend.
 */
export async function createBackendWithin(createBackend: BackendFactory, timeoutMs: number = CREATE_BACKEND_TIMEOUT_MS): Promise<Backend> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConformanceRunError(`the backend factory did not settle within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  let backend: Backend;
  try {
    backend = await Promise.race([Promise.resolve().then(() => createBackend()), limit]);
  } catch (err) {
    if (err instanceof ConformanceRunError) throw err;
    const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new ConformanceRunError(`the backend factory failed: ${what.split('\n')[0]}`);
  } finally {
    clearTimeout(timer);
  }
  if (!backend || typeof backend.compile !== 'function' || !Array.isArray(backend.kinds) || typeof backend.name !== 'string') {
    throw new ConformanceRunError(`the backend factory returned ${backend === null ? 'null' : typeof backend}, expected a backend {name, kinds, compile}`);
  }
  return backend;
}

/**
 * Returns `cases` after checking that no two share an id.
 * @throws Error naming the first duplicate id.
 */
export function assertUniqueIds<C extends Pick<ConformanceCase<unknown>, 'id'>>(cases: C[]): C[] {
  const seen = new Set<string>();
  for (const c of cases) {
    if (seen.has(c.id)) throw new Error(`conformance: duplicate test id ${c.id}`);
    seen.add(c.id);
  }
  return cases;
}
