import { trainingSpec, type CompiledModel, type LayerKind, type Tensor } from '@araboza/core';
import { FORWARD_TOLERANCE, GRADIENT_TOLERANCE, assertClose, assertCloseNumber, check } from '../assert.js';
import { graphGoldenModel, loadGraphGoldenCases, type GraphGoldenCase } from '../graph-golden.js';
import type { CaseContext, ConformanceCase } from '../types.js';

/** Time limit of one graph test (a compile and a run of a tiny graph). */
const GRAPH_TIMEOUT_MS = 60_000;

async function withGraph<T>(ctx: CaseContext, c: GraphGoldenCase, body: (m: CompiledModel) => Promise<T>): Promise<T> {
  const missing = [...new Set(c.topology.layers.map((l) => l.kind))].filter((k) => !ctx.backend.kinds.includes(k as LayerKind));
  if (missing.length > 0) ctx.skip(`unsupported: the graph ${c.id} needs ${missing.join(', ')}, which ${ctx.backend.name} does not implement`);
  const net = graphGoldenModel(c);
  const compiled = await ctx.backend.compile(net.graph, trainingSpec(net.graph, 'meanSquaredError', { kind: 'sgd', learningRate: 1 }, c.lossWeights));
  try {
    await compiled.setWeights(net.getWeights());
    return await body(compiled);
  } finally {
    compiled.dispose();
  }
}

/** Every output of `predict` equals the golden output. */
async function graphForward(ctx: CaseContext, c: GraphGoldenCase): Promise<void> {
  await withGraph(ctx, c, async (m) => {
    const outputs = await m.predict(c.inputs);
    check(outputs.length === c.outputs.length, () => `${c.id}: predict gave ${outputs.length} outputs, the graph has ${c.outputs.length}`);
    c.outputs.forEach((e, i) => assertClose(outputs[i], e, FORWARD_TOLERANCE, `${c.id} output ${c.topology.outputs[i]}`));
  });
}

/** The training loss, each output's loss, and the gradients with respect to every input and weight. */
async function graphGradients(ctx: CaseContext, c: GraphGoldenCase): Promise<void> {
  await withGraph(ctx, c, async (m) => {
    const g = await m.gradients(c.inputs, c.targets);
    assertCloseNumber(g.loss, c.loss, FORWARD_TOLERANCE.rtol, 1e-7, `${c.id} loss (Σ lossWeights · output losses)`);
    c.outputLosses.forEach((e, i) => assertCloseNumber(g.outputLosses[i], e, FORWARD_TOLERANCE.rtol, 1e-7, `${c.id} loss of output ${c.topology.outputs[i]}`));
    check(g.inputs.length === c.inputs.length, () => `${c.id}: expected ${c.inputs.length} input gradients, got ${g.inputs.length}`);
    c.gradients.inputs.forEach((e, i) => assertClose(g.inputs[i], e, GRADIENT_TOLERANCE, `${c.id} dLoss/d${c.topology.inputs[i].name}`));
    check(g.weights.length === c.weights.length, () => `${c.id}: expected ${c.weights.length} weight gradients, got ${g.weights.length}`);
    c.gradients.weights.forEach((e, i) => assertClose(g.weights[i], e, GRADIENT_TOLERANCE, `${c.id} dLoss/d${e.layer}/${e.name}`));
  });
}

/** One SGD step (lr 1) returns the golden losses and moves every weight by −dLoss/dw (a shared layer's: summed over its uses). */
async function graphTrainStep(ctx: CaseContext, c: GraphGoldenCase): Promise<void> {
  await withGraph(ctx, c, async (m) => {
    const step = await m.trainStep(c.inputs, c.targets);
    assertCloseNumber(step.loss, c.loss, FORWARD_TOLERANCE.rtol, 1e-7, `${c.id} trainStep loss`);
    c.outputLosses.forEach((e, i) =>
      assertCloseNumber(step.outputLosses[i], e, FORWARD_TOLERANCE.rtol, 1e-7, `${c.id} trainStep loss of output ${c.topology.outputs[i]}`),
    );
    const after = await m.getWeights();
    c.weights.forEach((w, i) => {
      const update: Tensor = { shape: [...w.shape], data: w.data.map((v, k) => v - after[i].data[k]) };
      assertClose(
        update,
        c.gradients.weights[i],
        GRADIENT_TOLERANCE,
        `${c.id} ${w.layer}/${w.name} update of one SGD step (lr 1), vs dLoss/d${w.layer}/${w.name}`,
      );
    });
  });
}

/**
 * The graph golden tests (`fixtures/graphs/graphs.json`: a residual block, a
 * concatenated skip, a shared layer, two inputs and two outputs with loss
 * weights): `graphs/<case>/forward`, `…/gradients` and `…/train-step`.
 */
export function graphCases(): ConformanceCase[] {
  return loadGraphGoldenCases().flatMap((c): ConformanceCase[] => [
    { id: `graphs/${c.id}/forward`, tags: ['graphs'], timeoutMs: GRAPH_TIMEOUT_MS, run: (ctx) => graphForward(ctx, c) },
    { id: `graphs/${c.id}/gradients`, tags: ['graphs'], timeoutMs: GRAPH_TIMEOUT_MS, run: (ctx) => graphGradients(ctx, c) },
    { id: `graphs/${c.id}/train-step`, tags: ['graphs'], timeoutMs: GRAPH_TIMEOUT_MS, run: (ctx) => graphTrainStep(ctx, c) },
  ]);
}
