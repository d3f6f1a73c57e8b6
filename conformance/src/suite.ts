import { ConfigError } from '@araboza/core';
import { coverageCases } from './checks/coverage.js';
import { errorCases } from './checks/errors.js';
import { goldenCases } from './checks/golden-checks.js';
import { referenceCases } from './checks/reference.js';
import { trainingCases } from './checks/training.js';
import type { ConformanceCase, TrainingMode } from './types.js';

/**
 * Every test of the per-backend suite, in run order: coverage, reference
 * experiments, golden vectors, errors, training. Ids are unique and stable.
 */
export function conformanceCases(options: { training?: TrainingMode } = {}): ConformanceCase[] {
  const training = options.training ?? 'full';
  if (training !== 'full' && training !== 'short') {
    throw new ConfigError(`conformance: training must be 'full' or 'short', got ${JSON.stringify(training)}`);
  }
  const cases = [...coverageCases(), ...referenceCases(), ...goldenCases(), ...errorCases(), ...trainingCases(training)];
  const seen = new Set<string>();
  for (const c of cases) {
    if (seen.has(c.id)) throw new Error(`conformance: duplicate test id ${c.id}`);
    seen.add(c.id);
  }
  return cases;
}
