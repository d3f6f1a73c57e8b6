import { LAYER_KINDS, singleLayerGraph, trainingSpec, type LayerKind } from '@araboza/core';
import { assertRejects, check } from '../assert.js';
import { goldenLayer, loadGoldenCases } from '../golden.js';
import type { CaseContext, ConformanceCase } from '../types.js';

/** The backend declares a name and a set of kinds that core knows, without duplicates. */
async function declaredKinds(ctx: CaseContext): Promise<void> {
  const { backend } = ctx;
  check(typeof backend.name === 'string' && backend.name.length > 0, `backend.name must be a non-empty string, got ${JSON.stringify(backend.name)}`);
  check(Array.isArray(backend.kinds), `backend.kinds must be an array, got ${typeof backend.kinds}`);
  const unknown = backend.kinds.filter((k) => !LAYER_KINDS.includes(k));
  check(unknown.length === 0, `backend.kinds names kinds core does not define: ${unknown.join(', ')}`);
  check(new Set(backend.kinds).size === backend.kinds.length, `backend.kinds has duplicates: ${backend.kinds.join(', ')}`);
  const missing = LAYER_KINDS.filter((k) => !backend.kinds.includes(k));
  ctx.log(`${backend.name} implements ${backend.kinds.length} of ${LAYER_KINDS.length} kinds${missing.length ? `; unsupported: ${missing.join(', ')}` : ''}`);
}

/**
 * A declared kind compiles for training (its forward lowering and gradient
 * rule exist); an undeclared kind is refused with a BackendError naming it,
 * before any work, so it shows as `unsupported` in the matrix.
 */
async function kindCoverage(ctx: CaseContext, kind: LayerKind): Promise<void> {
  const [c] = loadGoldenCases(kind);
  const layer = goldenLayer(c);
  if (ctx.backend.kinds.includes(kind)) {
    const graph = singleLayerGraph(
      layer,
      c.inputs.map((x) => x.shape.slice(1)),
    );
    const compiled = await ctx.backend.compile(graph, trainingSpec(graph, 'meanSquaredError', 'sgd'));
    compiled.dispose();
    return;
  }
  await assertRejects(
    () => layer.apply(c.inputs, { backend: ctx.backend }),
    'BackendError',
    `eager ${kind} on ${ctx.backend.name}, which does not declare it`,
    new RegExp(kind),
  );
}

/** The coverage tests: `coverage/kinds` and one `coverage/<kind>` per kind core defines. */
export function coverageCases(): ConformanceCase[] {
  return [
    { id: 'coverage/kinds', tags: ['coverage'], timeoutMs: 30_000, run: declaredKinds },
    ...LAYER_KINDS.map((kind): ConformanceCase => ({ id: `coverage/${kind}`, tags: ['coverage'], timeoutMs: 60_000, run: (ctx) => kindCoverage(ctx, kind) })),
  ];
}
