/**
 * Helpers shared by the tools in this folder: the `--name value` flag
 * parsing the former package scripts used (kept so that their command lines
 * still work), medians and process CPU time.
 */

/**
 * Every `--name value` pair of `argv`, by name without the dashes. A flag
 * with no value after it maps to `undefined`, as the former scripts read it.
 */
export function flagArgs(argv: readonly string[]): Record<string, string | undefined> {
  const flags: Record<string, string | undefined> = {};
  argv.forEach((a, i) => {
    if (a.startsWith('--')) flags[a.slice(2)] = argv[i + 1];
  });
  return flags;
}

/** The upper median of `xs` (the element at index ⌊n/2⌋ once sorted); `NaN` for none. */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
}

/** User plus system CPU time of this process so far, all threads, in milliseconds. */
export function cpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}
