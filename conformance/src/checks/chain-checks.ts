import { layerFromJSON, sequential, trainingSpec, type CompiledModel, type LayerKind, type Tensor } from '@araboza/core';
import { FORWARD_TOLERANCE, GRADIENT_TOLERANCE, assertClose, assertCloseNumber, check } from '../assert.js';
import { loadChainGoldenCases, type ChainGoldenCase } from '../training-golden.js';
import type { CaseContext, ConformanceCase } from '../types.js';

/** Time limit of one chain test (a compile and a step of a tiny graph). */
const CHAIN_TIMEOUT_MS = 60_000;

async function withChain<T>(ctx: CaseContext, c: ChainGoldenCase, body: (m: CompiledModel) => Promise<T>): Promise<T> {
  const missing = c.layers.map((l) => l.kind).filter((k) => !ctx.backend.kinds.includes(k as LayerKind));
  if (missing.length > 0) ctx.skip(`unsupported: the chain ${c.id} needs ${missing.join(', ')}, which ${ctx.backend.name} does not implement`);
  const model = sequential({
    inputShape: c.input.shape.slice(1),
    layers: c.layers.map((l, i) => layerFromJSON({ kind: l.kind, name: `chain_${i}_${l.kind}`, config: l.options })),
  });
  const m = await ctx.backend.compile(model.graph, trainingSpec(model.graph, 'meanSquaredError', { kind: 'sgd', learningRate: 1 }));
  try {
    await m.setWeights(c.weights);
    return await body(m);
  } finally {
    m.dispose();
  }
}

/** The chain's loss and its gradients with respect to the input and every weight, from a model compiled for training. */
async function chainGradients(ctx: CaseContext, c: ChainGoldenCase): Promise<void> {
  await withChain(ctx, c, async (m) => {
    const g = await m.gradients([c.input], [c.target]);
    assertCloseNumber(g.loss, c.loss, FORWARD_TOLERANCE.rtol, 1e-7, `${c.id} loss`);
    assertClose(g.inputs[0], c.gradients.input, GRADIENT_TOLERANCE, `${c.id} dLoss/dInput`);
    check(g.weights.length === c.gradients.weights.length, () => `${c.id}: expected ${c.gradients.weights.length} weight gradients, got ${g.weights.length}`);
    // A gradient that is zero in exact arithmetic (a conv's bias under a batch normalisation, which subtracts
    // it again: float64 leaves ~1e-17) is float32 rounding of the chain's other gradients: compared on their scale.
    const largest = c.gradients.weights.map((w) => w.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
    const scale = Math.max(...largest);
    c.gradients.weights.forEach((w, i) => assertClose(g.weights[i], w, GRADIENT_TOLERANCE, `${c.id} dLoss/d${w.name}`, largest[i] < 1e-9 * scale ? scale : 0));
  });
}

/** One SGD step (lr 1) moves every weight of the chain by −dLoss/dw, or, where the case gives `weightsAfterStep` (state weights), leaves every weight at those values. */
async function chainTrainStep(ctx: CaseContext, c: ChainGoldenCase): Promise<void> {
  await withChain(ctx, c, async (m) => {
    const { loss } = await m.trainStep([c.input], [c.target]);
    assertCloseNumber(loss, c.loss, FORWARD_TOLERANCE.rtol, 1e-7, `${c.id} trainStep loss`);
    const after = await m.getWeights();
    c.weights.forEach((w, i) => {
      if (c.weightsAfterStep) {
        // State weights follow the forward pass: the golden gives every weight after the step.
        assertClose(after[i], c.weightsAfterStep[i], GRADIENT_TOLERANCE, `${c.id} ${w.name} after one SGD step (lr 1)`);
        return;
      }
      const update: Tensor = { shape: [...w.shape], data: w.data.map((v, k) => v - after[i].data[k]) };
      assertClose(update, c.gradients.weights[i], GRADIENT_TOLERANCE, `${c.id} ${w.name} update of one SGD step (lr 1), vs dLoss/d${w.name}`);
    });
  });
}

export function chainCases(): ConformanceCase[] {
  return loadChainGoldenCases().flatMap((c): ConformanceCase[] => [
    { id: `chains/${c.id}/gradients`, tags: ['chains'], timeoutMs: CHAIN_TIMEOUT_MS, run: (ctx) => chainGradients(ctx, c) },
    { id: `chains/${c.id}/train-step`, tags: ['chains'], timeoutMs: CHAIN_TIMEOUT_MS, run: (ctx) => chainTrainStep(ctx, c) },
  ]);
}
