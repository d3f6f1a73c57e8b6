import type { ProgressBar } from './progress-bar.js';

/*
 * progress-bar.ts for browser bundles (package.json `browser` field): a page
 * has no terminal, so `fit` draws no bar there; its per-epoch lines still go
 * to `output` (the console by default), and steps reach callbacks.
 */

export type { ProgressBar } from './progress-bar.js';

/** No bar in a browser: always null. */
export function startBar(output: unknown, total: number | null, start: number): ProgressBar | null {
  void [output, total, start];
  return null;
}
