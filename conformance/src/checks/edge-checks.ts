import { LAYER_KINDS } from '@araboza/core';
import { fixtureExists, fixtureLocation, joinFixture } from '../fixture-files.js';
import { loadGoldenFile, type GoldenCase } from '../golden.js';
import { TRAINING_GENERATOR } from '../training-golden.js';
import type { ConformanceCase } from '../types.js';
import { goldenCases } from './golden-checks.js';

/**
 * Folder of the layer edge cases (`<kind>.json` in the golden layer format):
 * exact ties in max pooling, exact zeros before relu, dilation 3 with even
 * kernels. The main golden generator keeps its random cases away from the
 * kinks on purpose; these sit on them.
 */
export const EDGE_FIXTURES_DIR: string = fixtureLocation('edges/');

/** The edge cases of every kind that has a file in {@link EDGE_FIXTURES_DIR}, in `LAYER_KINDS` order. */
export function loadEdgeCases(dir: string = EDGE_FIXTURES_DIR): GoldenCase[] {
  return LAYER_KINDS.filter((k) => fixtureExists(joinFixture(dir, `${k}.json`))).flatMap(
    (k) => loadGoldenFile(k, { fixturesDir: dir, generator: TRAINING_GENERATOR }).cases as GoldenCase[],
  );
}

/**
 * The edge cases' tests, with the same ids and checks as the other golden
 * cases (`golden/<kind>/<case>/forward`, `…/gradients`, `…/train-step`),
 * so they feed the coverage matrix.
 */
export function edgeCases(): ConformanceCase[] {
  return goldenCases(loadEdgeCases());
}
