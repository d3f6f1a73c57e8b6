import { ConfigError } from '@araboza/core';
import { chainCases } from './checks/chain-checks.js';
import { coverageCases } from './checks/coverage.js';
import { edgeCases } from './checks/edge-checks.js';
import { errorCases } from './checks/errors.js';
import { goldenCases } from './checks/golden-checks.js';
import { graphCases } from './checks/graph-checks.js';
import { metricCases } from './checks/metric-checks.js';
import { referenceCases } from './checks/reference.js';
import { regularizerCases } from './checks/regularizer-checks.js';
import { rolesCases } from './checks/roles-checks.js';
import { lossCases, optimizerCases } from './checks/training-checks.js';
import { trainingCases } from './checks/training.js';
import { trajectoryCases } from './checks/trajectory-checks.js';
import type { ConformanceCase, TrainingMode } from './types.js';

/**
 * Every test of the per-backend suite, in run order: coverage, reference
 * experiments, golden vectors (the layer edge cases among them), layer chains, whole
 * graphs, optimizer sequences, losses, regularisers, metrics, errors, weight roles, training. Ids are unique and stable.
 */
export function conformanceCases(options: { training?: TrainingMode } = {}): ConformanceCase[] {
  const training = options.training ?? 'full';
  if (training !== 'full' && training !== 'short') {
    throw new ConfigError(`conformance: training must be 'full' or 'short', got ${JSON.stringify(training)}`);
  }
  const cases = [
    ...coverageCases(),
    ...referenceCases(),
    ...goldenCases(),
    ...edgeCases(),
    ...chainCases(),
    ...graphCases(),
    ...optimizerCases(),
    ...lossCases(),
    ...regularizerCases(),
    ...metricCases(),
    ...errorCases(),
    ...rolesCases(),
    ...trajectoryCases(),
    ...trainingCases(training),
  ];
  const seen = new Set<string>();
  for (const c of cases) {
    if (seen.has(c.id)) throw new Error(`conformance: duplicate test id ${c.id}`);
    seen.add(c.id);
  }
  return cases;
}
