import { ConfigError } from '@araboza/core';
import { browserConformanceCases } from './browser-suite.js';
import { checkpointCases } from './checks/checkpoint-checks.js';
import { referenceCases } from './checks/reference.js';
import { trainingCases } from './checks/training.js';
import { trajectoryCases } from './checks/trajectory-checks.js';
import { assertUniqueIds } from './run-guards.js';
import type { ConformanceCase, TrainingMode } from './types.js';

/**
 * Every test of the per-backend suite, in run order: first the browser's part
 * (coverage, golden vectors with the layer edge cases, layer chains, whole graphs,
 * optimizer sequences, losses, regularisers, metrics, errors, weight roles; see
 * `browserConformanceCases`), then the tests that need Node: checkpoint resume,
 * reference experiments, the MNIST trajectory, training. Ids are unique and stable.
 */
export function conformanceCases(options: { training?: TrainingMode } = {}): ConformanceCase[] {
  const training = options.training ?? 'full';
  if (training !== 'full' && training !== 'short') {
    throw new ConfigError(`conformance: training must be 'full' or 'short', got ${JSON.stringify(training)}`);
  }
  return assertUniqueIds([...browserConformanceCases(), ...checkpointCases(), ...referenceCases(), ...trajectoryCases(), ...trainingCases(training)]);
}
