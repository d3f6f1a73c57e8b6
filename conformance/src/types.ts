import type { Backend, LayerKind } from '@araboza/core';

/** A string or regular-expression pattern matched against test ids (see {@link matchesPattern}). */
export type Pattern = string | RegExp;

/** Which column of the coverage matrix a test feeds. */
export type MatrixAspect = 'forward' | 'gradient' | 'training';

/** How the autoencoder training check runs (see the README's "training" section). */
export type TrainingMode = 'full' | 'short';

/** Options of {@link describeConformance} and {@link runConformance}. */
export interface ConformanceOptions {
  /** Run only tests whose id matches one of these patterns (default: every test). */
  include?: readonly Pattern[] | Pattern;
  /** Skip tests whose id matches one of these patterns; they are reported as skipped, never hidden. */
  exclude?: readonly Pattern[] | Pattern;
  /** Tests expected to fail: they pass when they fail and fail when they pass (vitest's `it.fails`). */
  xfail?: readonly Pattern[] | Pattern;
  /**
   * `full` (default): one epoch over the 60,000 MNIST training digits, batch
   * 256, test BCE ≤ 0.21. `short`: a few hundred digits for engines that
   * take seconds per step (see {@link SHORT_TRAINING}).
   */
  training?: TrainingMode;
  /** Label of the vitest `describe` block (default `conformance`). */
  name?: string;
  /** Print the coverage matrix after the suite (default true). */
  printMatrix?: boolean;
}

/** What a test receives when it runs. */
export interface CaseContext {
  /** The backend under test (created once per suite). */
  readonly backend: Backend;
  /** Marks the test skipped with a reason; never returns. */
  skip(reason: string): never;
  /** Writes a line of diagnostics (a measured value, a timing). */
  log(message: string): void;
}

/** One test of the suite, independent of any test framework. */
export interface ConformanceCase<C = CaseContext> {
  /** Stable path, e.g. `golden/conv2d/k3-s2-same-7x7/gradients`. */
  readonly id: string;
  /** Tags a pattern can target with `@tag` (e.g. `large`). */
  readonly tags: readonly string[];
  /** Time limit in milliseconds. */
  readonly timeoutMs: number;
  /** The coverage-matrix cell this test feeds, if any. */
  readonly matrix?: { readonly kind: LayerKind; readonly aspect: MatrixAspect };
  /** Runs the test; throws on failure. */
  run(ctx: C): Promise<void>;
}

/** Outcome of one test. `xfail`: failed as expected; `xpass`: was expected to fail but passed (a failure). */
export type CaseStatus = 'passed' | 'failed' | 'skipped' | 'xfail' | 'xpass';

/** Result of one test run by {@link runConformance} or recorded by {@link describeConformance}. */
export interface CaseResult {
  readonly id: string;
  readonly status: CaseStatus;
  /** Why it failed or was skipped. */
  readonly message?: string;
  /** Wall time in milliseconds. */
  readonly ms: number;
}

/** Thrown by {@link CaseContext.skip}; runners report the test as skipped with its reason. */
export class SkipSignal extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'SkipSignal';
  }
}

/** A check found a difference from the expected result. */
export class ConformanceFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceFailure';
  }
}

/** A factory of the backend under test, as a backend package exports it. */
export type BackendFactory = () => Backend | Promise<Backend>;
