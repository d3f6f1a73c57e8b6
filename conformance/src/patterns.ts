import type { ConformanceCase, Pattern } from './types.js';

/** Normalises one pattern or a list into a list. */
export function patternList(p: readonly Pattern[] | Pattern | undefined): Pattern[] {
  if (p === undefined) return [];
  return Array.isArray(p) ? [...p] : [p as Pattern];
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/**
 * Whether a test matches a pattern:
 * - a RegExp: `pattern.test(id)`;
 * - `@tag`: the test carries that tag (e.g. `@large`);
 * - a string with `*`: a glob over the whole id (`*` matches anything, `/` included);
 * - any other string: the id itself or an id below it (`golden/conv2d` matches
 *   `golden/conv2d/k3-s1-valid-7x7/forward`, not `golden/conv2dTranspose/...`).
 */
export function matchesPattern(test: Pick<ConformanceCase<unknown>, 'id' | 'tags'>, pattern: Pattern): boolean {
  if (pattern instanceof RegExp) {
    pattern.lastIndex = 0;
    return pattern.test(test.id);
  }
  if (pattern.startsWith('@')) return test.tags.includes(pattern.slice(1));
  if (pattern.includes('*')) return globToRegExp(pattern).test(test.id);
  const p = pattern.endsWith('/') ? pattern.slice(0, -1) : pattern;
  return test.id === p || test.id.startsWith(`${p}/`);
}

/** What a runner does with a test given include/exclude/xfail patterns. */
export type Selection = { run: false; reason: string } | { run: true; xfail: boolean };

/** Environment variables by name (Node's `process.env`, or an empty object where there is no process, as in a browser). */
export type Environment = Readonly<Record<string, string | undefined>>;

/** `process.env` under Node; an empty environment where `process` does not exist (a browser). */
export function processEnvironment(): Environment {
  return typeof process === 'undefined' ? {} : process.env;
}

/** Patterns from the environment: comma-separated lists in `ARABOZA_CONFORMANCE_INCLUDE`, `_EXCLUDE`, `_XFAIL`. */
export function environmentPatterns(env: Environment = processEnvironment()): { include: string[]; exclude: string[]; xfail: string[] } {
  const list = (v: string | undefined) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  return {
    include: list(env.ARABOZA_CONFORMANCE_INCLUDE),
    exclude: list(env.ARABOZA_CONFORMANCE_EXCLUDE),
    xfail: list(env.ARABOZA_CONFORMANCE_XFAIL),
  };
}

/**
 * Decides whether a test runs: it must match an include pattern (when any is
 * given) and no exclude pattern; it is expected to fail when it matches an
 * xfail pattern.
 */
export function selectCase(
  test: Pick<ConformanceCase<unknown>, 'id' | 'tags'>,
  patterns: { include: readonly Pattern[]; exclude: readonly Pattern[]; xfail: readonly Pattern[] },
): Selection {
  if (patterns.include.length > 0 && !patterns.include.some((p) => matchesPattern(test, p))) {
    return { run: false, reason: 'not included' };
  }
  const excludedBy = patterns.exclude.find((p) => matchesPattern(test, p));
  if (excludedBy !== undefined) return { run: false, reason: `excluded by ${String(excludedBy)}` };
  return { run: true, xfail: patterns.xfail.some((p) => matchesPattern(test, p)) };
}

/** Merges caller and environment patterns. */
export function resolvePatterns(options: {
  include?: readonly Pattern[] | Pattern;
  exclude?: readonly Pattern[] | Pattern;
  xfail?: readonly Pattern[] | Pattern;
}): { include: Pattern[]; exclude: Pattern[]; xfail: Pattern[] } {
  const env = environmentPatterns();
  return {
    include: [...patternList(options.include), ...env.include],
    exclude: [...patternList(options.exclude), ...env.exclude],
    xfail: [...patternList(options.xfail), ...env.xfail],
  };
}
