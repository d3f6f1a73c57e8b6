import {
  BackendError,
  dense,
  randomUniform,
  sequential,
  tensor,
  type Model,
  type Backend,
  type CompiledModel,
  type Gradients,
  type ModelGraph,
  type OptimizerState,
  type Tensor,
  type TrainingSpec,
} from '../src/index.js';

/** What the test backend saw: every training batch's size and first input value. */
export interface Recording {
  batches: { size: number; first: number }[];
  setWeightsCalls: number;
  /** The learning rate of every training step, when given. */
  learningRates?: number[];
  /** Every trainStep's and evaluate's first input column and sample weights (null without), when given. */
  weighted?: { call: 'trainStep' | 'evaluate'; x0: number[]; weights: number[] | null }[];
}

/** Records a call's first input column and sample weights in `recording.weighted`, when it is kept. */
function recordWeights(recording: Recording, call: 'trainStep' | 'evaluate', x: Tensor, sampleWeight: Tensor | undefined): void {
  const width = x.data.length / x.shape[0];
  const x0 = Array.from({ length: x.shape[0] }, (_, r) => x.data[r * width]);
  recording.weighted?.push({ call, x0, weights: sampleWeight ? Array.from(sampleWeight.data) : null });
}

/**
 * A tiny pure-JS backend for testing core's loop: one linear dense layer,
 * mean squared error, SGD with momentum. `losses` overrides the returned loss of
 * given steps (to inject NaN).
 */
export function linearTestBackend(recording: Recording, losses: Map<number, number> = new Map()): Backend {
  return {
    name: 'test-linear',
    kinds: ['dense'],
    async compile(graph: ModelGraph, training?: TrainingSpec): Promise<CompiledModel> {
      const node = graph.nodes[0];
      if (graph.nodes.length !== 1 || node.kind !== 'dense' || node.config.activation !== 'linear') {
        throw new BackendError('test backend: one linear dense layer only');
      }
      const [nIn, nOut] = node.weights[0].shape;
      let kernel = new Float32Array(nIn * nOut);
      let bias = new Float32Array(nOut);
      let step = 0;
      let vKernel = new Float32Array(nIn * nOut);
      let vBias = new Float32Array(nOut);
      const forward = (x: Tensor) => {
        const rows = x.data.length / nIn;
        const out = new Float32Array(rows * nOut);
        for (let r = 0; r < rows; r++)
          for (let o = 0; o < nOut; o++) {
            let s = node.config.useBias ? bias[o] : 0;
            for (let i = 0; i < nIn; i++) s += x.data[r * nIn + i] * kernel[i * nOut + o];
            out[r * nOut + o] = s;
          }
        return out;
      };
      const lossAndGrads = (x: Tensor, y: Tensor) => {
        const p = forward(x);
        const rows = p.length / nOut;
        let loss = 0;
        const gk = new Float32Array(kernel.length);
        const gb = new Float32Array(nOut);
        for (let r = 0; r < rows; r++)
          for (let o = 0; o < nOut; o++) {
            const d = p[r * nOut + o] - y.data[r * nOut + o];
            loss += d * d;
            const g = (2 * d) / p.length;
            gb[o] += g;
            for (let i = 0; i < nIn; i++) gk[i * nOut + o] += g * x.data[r * nIn + i];
          }
        return { loss: loss / p.length, gk, gb };
      };
      // Host metric partials (core's ResolvedMetric): the mean errors only, enough to test core's accumulation.
      const metricsOf = (x: Tensor, y: Tensor): { metrics?: number[][] } => {
        const metrics = training?.metrics ?? [];
        if (metrics.length === 0) return {};
        const p = forward(x);
        return {
          metrics: metrics.map((m) => {
            if (m.kind !== 'meanAbsoluteError' && m.kind !== 'meanSquaredError') throw new BackendError(`test backend: no ${m.kind} metric`);
            let sum = 0;
            p.forEach((v, i) => (sum += m.kind === 'meanAbsoluteError' ? Math.abs(v - y.data[i]) : (v - y.data[i]) ** 2));
            return [sum];
          }),
        };
      };
      const requireTraining = () => {
        if (!training) throw new BackendError('compiled without training');
        if (training.optimizer.kind !== 'sgd') throw new BackendError('test backend: sgd only');
        return training.optimizer;
      };
      return {
        async predict([x]) {
          return [{ shape: [x.shape[0], ...node.outputShape], data: forward(x) }];
        },
        async trainStep([x], [y], options) {
          const { learningRate: specRate, momentum } = requireTraining() as { learningRate: number; momentum: number };
          const lr = options?.learningRate ?? specRate;
          recording.learningRates?.push(lr);
          recording.batches.push({ size: x.shape[0], first: x.data[0] });
          recordWeights(recording, 'trainStep', x, options?.sampleWeight);
          const { loss, gk, gb } = lossAndGrads(x, y);
          const metrics = metricsOf(x, y);
          const reported = losses.get(step) ?? loss;
          if (!Number.isFinite(reported)) return { loss: reported, outputLosses: [reported], ...metrics };
          vKernel = vKernel.map((v, i) => momentum * v - lr * gk[i]);
          vBias = vBias.map((v, i) => momentum * v - lr * gb[i]);
          kernel = kernel.map((v, i) => v + vKernel[i]);
          bias = bias.map((v, i) => v + vBias[i]);
          step++;
          return { loss: reported, outputLosses: [reported], ...metrics };
        },
        async evaluate([x], [y], options) {
          recordWeights(recording, 'evaluate', x, options?.sampleWeight);
          const { loss } = lossAndGrads(x, y);
          return { loss, outputLosses: [loss], ...metricsOf(x, y) };
        },
        async gradients([x], [y]): Promise<Gradients> {
          requireTraining();
          const { loss, gk, gb } = lossAndGrads(x, y);
          return {
            loss,
            outputLosses: [loss],
            inputs: [{ shape: x.shape, data: new Float32Array(x.data.length) }],
            weights: [
              { shape: [nIn, nOut], data: gk },
              { shape: [nOut], data: gb },
            ],
          };
        },
        async getWeights() {
          const ws = [{ shape: [nIn, nOut], data: kernel.slice() }];
          if (node.config.useBias) ws.push({ shape: [nOut], data: bias.slice() });
          return ws;
        },
        async setWeights(ws) {
          recording.setWeightsCalls++;
          kernel = Float32Array.from(ws[0].data);
          if (ws[1]) bias = Float32Array.from(ws[1].data);
        },
        async getOptimizerState(): Promise<OptimizerState> {
          const momentum = training?.optimizer.kind === 'sgd' && training.optimizer.momentum > 0;
          const slots = momentum ? [[{ shape: [nIn, nOut], data: vKernel.slice() }], [{ shape: [nOut], data: vBias.slice() }]] : [[], []];
          return { step, slots: node.config.useBias ? slots : slots.slice(0, 1) };
        },
        async setOptimizerState(state) {
          step = state.step;
          if (state.slots[0]?.length) {
            vKernel = Float32Array.from(state.slots[0][0].data);
            if (state.slots[1]) vBias = Float32Array.from(state.slots[1][0].data);
          }
        },
        dispose() {},
      };
    },
  };
}

/** A linear regression problem for the test backend: y = 2·x0 − x1 + 0.5·x2 + 0.25 on n random samples. */
export function linearProblem(n: number): { x: Tensor; y: Tensor } {
  const x = randomUniform([n, 3], { seed: 1, minval: -1, maxval: 1 });
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = 2 * x.data[i * 3] - x.data[i * 3 + 1] + 0.5 * x.data[i * 3 + 2] + 0.25;
  return { x, y: tensor(y, [n, 1]) };
}

/** A one-dense-layer model compiled on the test backend (SGD, learning rate 0.1, mean squared error), with its recording. */
export function linearSetup(losses?: Map<number, number>): { m: Model; recording: Recording } {
  const recording: Recording = { batches: [], setWeightsCalls: 0 };
  const m = sequential({ inputShape: [3], layers: [dense({ units: 1 })] });
  m.compile({ backend: linearTestBackend(recording, losses), optimizer: { kind: 'sgd', learningRate: 0.1 }, loss: 'meanSquaredError' });
  return { m, recording };
}
